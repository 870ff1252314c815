"""The audit log over real HTTP: the latest checkpoint, inclusion and consistency proofs that check out, roles,
and bounded parameters (a huge number is a client error, never a 500)."""

from __future__ import annotations

import base64

import httpx

from mmi.audit import merkle
from mmi.audit.checkpoints import audit_settings, open_note, trusted_verifier
from tests.mmi.api.conftest import RunningApi
from tests.mmi.api.tokens import claims, signed


def _get(running: RunningApi, path: str, role: str = "auditor", subject: str = "auditor-1") -> httpx.Response:
    token = signed(running.api, claims(running.api, role=role, subject=subject))
    return httpx.get(running.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_checkpoint_and_proofs_check_out(running_api: RunningApi) -> None:
    for _ in range(3):  # each download is a leaf
        assert _get(running_api, "/v1/changesets/1?subscriber=zhengzhou-health").status_code == 200
    response = _get(running_api, "/v1/audit/checkpoint", role="subscriber", subject="zhengzhou-health")
    assert response.status_code == 200, response.text
    point = open_note(response.text, trusted_verifier(audit_settings(running_api.settings)))
    assert point.size >= 1
    for leaf in range(point.size):
        proof = _get(running_api, f"/v1/audit/proof?leaf={leaf}&size={point.size}").json()
        leaf_hash = merkle.leaf_hash(proof["entry"].encode("utf-8"))
        assert base64.b64decode(proof["leaf_hash"]) == leaf_hash
        path = [base64.b64decode(node) for node in proof["proof"]]
        assert merkle.verify_inclusion(leaf, point.size, leaf_hash, path, point.root)
    for old in range(1, point.size + 1):
        body = _get(running_api, f"/v1/audit/consistency?from={old}&to={point.size}").json()
        path = [base64.b64decode(node) for node in body["proof"]]
        assert merkle.verify_consistency(old, point.size, base64.b64decode(body["from_root"]), point.root, path)


def test_roles_and_bounds(running_api: RunningApi) -> None:
    assert _get(running_api, "/v1/audit/checkpoint", role="steward", subject="s").status_code == 403
    assert httpx.get(running_api.base_url + "/v1/audit/checkpoint", timeout=30).status_code == 401
    assert _get(running_api, "/v1/audit/checkpoint", role="admin", subject="a").status_code == 200
    for path in (
        "/v1/audit/proof?leaf=0&size=99999999999999999999999",
        "/v1/audit/proof?leaf=-1&size=1",
        "/v1/audit/consistency?from=1&to=9223372036854775807",
        "/v1/audit/proof?leaf=abc&size=1",
    ):
        assert _get(running_api, path).status_code in (404, 422), path
    assert _get(running_api, "/v1/audit/proof?leaf=4611686018427387904&size=4611686018427387904").status_code == 404
    assert _get(running_api, "/v1/audit/consistency?from=3&to=2").status_code == 400
