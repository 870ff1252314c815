"""The Merkle tree against RFC 6962's own definitions, and the standalone verifier's copy against this module."""

from __future__ import annotations

import hashlib
import importlib.util
import random
from pathlib import Path

import pytest

from mmi.audit import merkle

TOOL = Path(__file__).resolve().parents[3] / "tools" / "verify_audit_bundle.py"


def rfc_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 2.1 writes it: recursion at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(rfc_root(leaves[:k]), rfc_root(leaves[k:]))


LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(70)]


def test_known_answers_of_rfc_6962_hashing() -> None:
    # The empty tree, and the leaf hash of the empty string, as in the RFC 6962 / Certificate Transparency test vectors.
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_roots_inclusion_and_consistency_for_every_size() -> None:
    for n in range(1, len(LEAVES) + 1):
        tree = LEAVES[:n]
        assert merkle.root(tree) == rfc_root(tree)
        for i in range(n):
            proof = merkle.inclusion_proof(i, tree)
            assert merkle.verify_inclusion(i, n, tree[i], proof, merkle.root(tree))
            assert not merkle.verify_inclusion(i, n, LEAVES[(i + 1) % len(LEAVES)], proof, merkle.root(tree))
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, tree)
            assert merkle.verify_consistency(m, n, merkle.root(tree[:m]), merkle.root(tree), proof)
            if m < n:
                assert not merkle.verify_consistency(m, n, merkle.root(LEAVES[1 : m + 1]), merkle.root(tree), proof)


def test_a_leaf_is_never_a_node() -> None:
    left, right = LEAVES[0], LEAVES[1]
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


def test_proofs_refuse_impossible_requests() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(5, LEAVES[:5])
    with pytest.raises(ValueError):
        merkle.consistency_proof(6, LEAVES[:5])
    assert not merkle.verify_inclusion(7, 5, LEAVES[0], [], merkle.root(LEAVES[:5]))


def test_the_standalone_verifier_builds_the_same_tree() -> None:
    spec = importlib.util.spec_from_file_location("verify_audit_bundle", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rng = random.Random(7)
    for n in [1, 2, 3, 31, 32, 33, rng.randrange(100, 400)]:
        data = [rng.randbytes(20) for _ in range(n)]
        frontier = tool.Frontier()
        for item in data:
            frontier.append(tool.leaf_hash(item))
        assert frontier.root() == merkle.root([merkle.leaf_hash(item) for item in data])
