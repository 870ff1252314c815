"""Tokens for tests, good and bad, made the way an attacker or a careless client would make them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mmi.api.keys import load_signing_key
from mmi.api.settings import ApiSettings


def claims(api: ApiSettings, role: str = "subscriber", subject: str = "zhengzhou-health", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": api.issuer,
        "aud": api.audience,
        "sub": subject,
        "role": role,
        "iat": now,
        "exp": now + 600,
        "jti": secrets.token_urlsafe(8),
    }
    return {key: value for key, value in (base | changes).items() if value is not None}


def signed(api: ApiSettings, payload: dict[str, Any], with_kid: bool = True) -> str:
    """Signed properly, with the service's own key (and its kid)."""
    key, algorithm, kid = load_signing_key(api)
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid} if with_kid else None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(api: ApiSettings, payload: dict[str, Any]) -> str:
    """`alg: none`, naming the service's real kid."""
    _key, _algorithm, kid = load_signing_key(api)
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def hmac_with_public_key(api: ApiSettings, payload: dict[str, Any]) -> str:
    """HS256 keyed with the service's public key (PEM), the classic algorithm-confusion attack."""
    key, _algorithm, kid = load_signing_key(api)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def foreign(payload: dict[str, Any], kid: str = "someone-elses-key") -> str:
    """Signed with a key the service has never seen."""
    return jwt.encode(payload, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})


def forged_with_known_kid(api: ApiSettings, payload: dict[str, Any]) -> str:
    """Signed with another key, but naming the service's kid."""
    _key, _algorithm, kid = load_signing_key(api)
    return foreign(payload, kid)
