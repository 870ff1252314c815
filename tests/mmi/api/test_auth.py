"""Every token the API must refuse, tried against it running, over HTTP; and what each role may reach."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmi.api import create_keys, issue_token
from mmi.api.settings import ApiSettings
from tests.mmi.api.conftest import RunningApi
from tests.mmi.api.tokens import claims, foreign, forged_with_known_kid, hmac_with_public_key, signed, unsigned

REJECTED: dict[str, Callable[[ApiSettings], str]] = {
    "alg none": lambda api: unsigned(api, claims(api)),
    "HMAC signed with the public key": lambda api: hmac_with_public_key(api, claims(api)),
    "expired": lambda api: signed(api, claims(api, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "wrong audience": lambda api: signed(api, claims(api, aud="another-service")),
    "wrong issuer": lambda api: signed(api, claims(api, iss="someone-else")),
    "unknown kid": lambda api: foreign(claims(api)),
    "known kid, other key": lambda api: forged_with_known_kid(api, claims(api)),
    "no kid": lambda api: signed(api, claims(api), with_kid=False),
    "no exp": lambda api: signed(api, claims(api, exp=None)),
    "no iat": lambda api: signed(api, claims(api, iat=None)),
    "no sub": lambda api: signed(api, claims(api, sub=None)),
    "no role": lambda api: signed(api, claims(api, role=None)),
    "unknown role": lambda api: signed(api, claims(api, role="superuser")),
    "issued in the future": lambda api: signed(api, claims(api, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)),
    "not a JWT": lambda api: "not-a-token",
}

ENDPOINTS = [("GET", "/v1/changesets"), ("GET", "/v1/changesets/1"), ("POST", "/v1/changesets/1/ack")]


def call(running: RunningApi, method: str, path: str, token: str | None = None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, running.base_url + path, headers=headers, params=params, timeout=10)


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_no_token_is_401(shared_api: RunningApi, method: str, path: str) -> None:
    response = call(shared_api, method, path)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_a_bad_token_is_401_everywhere(shared_api: RunningApi, kind: str) -> None:
    token = REJECTED[kind](shared_api.api)
    for method, path in ENDPOINTS:
        response = call(shared_api, method, path, token)
        assert response.status_code == 401, f"{kind}: {method} {path} gave {response.status_code} {response.text}"


def test_the_good_token_the_bad_ones_are_made_from_is_accepted(shared_api: RunningApi) -> None:
    """The control: the same claims, signed properly, pass; so the refusals above are for the reason named."""
    response = call(shared_api, "GET", "/v1/changesets", signed(shared_api.api, claims(shared_api.api)))
    assert response.status_code == 200 and response.json()["subscriber"] == "zhengzhou-health"


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_a_subscriber_asking_for_anothers_change_sets_is_403(shared_api: RunningApi, method: str, path: str) -> None:
    token = issue_token(shared_api.api, "subscriber", "zhengzhou-health")
    assert call(shared_api, method, path, token, subscriber="guangdong-police").status_code == 403


def test_a_subscriber_token_for_no_configured_subscription_is_403(shared_api: RunningApi) -> None:
    token = issue_token(shared_api.api, "subscriber", "nobody")
    assert call(shared_api, "GET", "/v1/changesets", token).status_code == 403


def test_roles(running_api: RunningApi) -> None:
    api = running_api.api
    steward, auditor, admin = (issue_token(api, role, f"{role}-1") for role in ("steward", "auditor", "admin"))
    assert call(running_api, "GET", "/v1/changesets", steward, subscriber="zhengzhou-health").status_code == 403
    assert call(running_api, "GET", "/v1/changesets", auditor).status_code == 400  # must name the subscription
    assert call(running_api, "GET", "/v1/changesets", auditor, subscriber="guangdong-police").json()["latest"] == 1
    assert call(running_api, "GET", "/v1/changesets/1", auditor, subscriber="guangdong-police").status_code == 200
    assert call(running_api, "POST", "/v1/changesets/1/ack", auditor, subscriber="guangdong-police").status_code == 403
    acked = call(running_api, "POST", "/v1/changesets/1/ack", admin, subscriber="guangdong-police")
    assert acked.status_code == 200 and acked.json()["acknowledged"]["by"] == "admin-1"
    assert call(running_api, "GET", "/v1/changesets", admin, subscriber="no-such").status_code == 404


def test_during_a_rotation_both_keys_are_valid_then_the_oldest_is_dropped(running_api: RunningApi) -> None:
    api = running_api.api
    before = issue_token(api, "subscriber", "zhengzhou-health")
    create_keys(api, algorithm="RS256", rotate=True)  # the running API reads the changed JWKS without a restart
    after = issue_token(api, "subscriber", "zhengzhou-health")
    assert call(running_api, "GET", "/v1/changesets", before).status_code == 200
    assert call(running_api, "GET", "/v1/changesets", after).status_code == 200
    create_keys(api, rotate=True)
    assert call(running_api, "GET", "/v1/changesets", before).status_code == 401
    assert call(running_api, "GET", "/v1/changesets", after).status_code == 200
