#!/usr/bin/env python3
"""Check an audit bundle (`mmi audit export --out DIR`) without the project: Python 3.11+ and `cryptography` only.

    python3 verify_audit_bundle.py DIR [--key VERIFIER_KEY_FILE] [--since-checkpoint FILE]

It recomputes every leaf hash from its entry (RFC 6962: SHA-256 of 0x00 ‖ entry), checks the leaves are numbered
0..n-1, rebuilds the Merkle tree (interior nodes SHA-256 of 0x01 ‖ left ‖ right) and compares its root at every
checkpoint's size with the signed one, after checking each checkpoint's Ed25519 signature (C2SP signed note) with
the log's verifier key: the bundle's `log.pub`, or better the copy you kept (`--key`). With `--since-checkpoint`,
a checkpoint you kept from earlier must be a prefix of this log (history was only appended to).
Exit 0 intact, 1 something differs (the first difference is printed), 2 the bundle cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """Roots of the perfect subtrees of the tree so far, largest first."""

    def __init__(self) -> None:
        self.size, self.nodes = 0, []

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self.nodes.pop(), node)
            size >>= 1
        self.nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return hashlib.sha256(b"").digest()
        node = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            node = node_hash(left, node)
        return node


def parse_verifier_key(text: str) -> tuple[str, bytes, bytes]:
    name, hex_id, encoded = text.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if raw[:1] != b"\x01" or len(raw) != 33 or key_id.hex() != hex_id:
        raise ValueError("not an Ed25519 signed-note verifier key")
    return name, key_id, raw[1:]


def open_note(note: str, key: tuple[str, bytes, bytes]) -> tuple[int, bytes]:
    """(tree size, root) of a checkpoint signed by `key`; ValueError otherwise."""
    name, key_id, public = key
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise ValueError("not a signed note")
    body += "\n"
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == DASH and parts[1] == name:
            raw = base64.b64decode(parts[2])
            if raw[:4] != key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode("utf-8"))
            except InvalidSignature:
                raise ValueError(f"the signature by {name} does not verify") from None
            lines = body.split("\n")
            return int(lines[1]), base64.b64decode(lines[2], validate=True)
    raise ValueError(f"no signature by the log's key {name}")


def verify(bundle: Path, key_text: str, since: str | None) -> list[str]:
    key = parse_verifier_key(key_text)
    problems: list[str] = []
    wanted: dict[int, list[tuple[str, bytes]]] = {}
    notes = sorted((bundle / "checkpoints").glob("*.txt"), key=lambda path: int(path.stem))
    named = [(path.name, path.read_text(encoding="utf-8")) for path in notes] + ([("--since-checkpoint", since)] if since else [])
    for label, note in named:
        try:
            size, root = open_note(note, key)
        except ValueError as error:
            problems.append(f"checkpoint {label}: {error}")
            continue
        wanted.setdefault(size, []).append((label, root))
    frontier = Frontier()
    with (bundle / "leaves.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            leaf = json.loads(line)
            if leaf["index"] != frontier.size:
                problems.append(f"leaf {frontier.size}: missing (the next is {leaf['index']})")
                break
            digest = leaf_hash(leaf["entry"].encode("utf-8"))
            if digest.hex() != leaf["leaf_hash"]:
                problems.append(f"leaf {leaf['index']}: its hash does not match its entry")
            frontier.append(digest)
            for label, root in wanted.pop(frontier.size, []):
                if root != frontier.root():
                    problems.append(f"checkpoint {label}: leaves 0..{frontier.size - 1} give another root")
    for size, points in sorted(wanted.items()):
        problems += [f"checkpoint {label}: signs {size} leaves, the bundle holds {frontier.size} (truncated)" for label, _ in points]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--key", type=Path, help="the log's verifier key you kept (default: the bundle's log.pub)")
    parser.add_argument("--since-checkpoint", type=Path)
    args = parser.parse_args(argv)
    try:
        key_text = (args.key or args.bundle / "log.pub").read_text(encoding="utf-8")
        since = args.since_checkpoint.read_text(encoding="utf-8") if args.since_checkpoint else None
        problems = verify(args.bundle, key_text, since)
    except (OSError, ValueError, KeyError) as error:
        print(f"cannot verify the bundle: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    if problems:
        print(f"TAMPERED: {problems[0]}", file=sys.stderr)
        for problem in problems[1:20]:
            print(f"  also: {problem}", file=sys.stderr)
        return 1
    print("intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
