"""Signing keys and tokens: `mmi keys` makes or rotates the key pair, `mmi token` signs with it.

The private key is a PEM file only the issuer needs; the API checks tokens against the public keys of a JWKS
file. A rotation writes a new signing key and keeps the previous public key in the JWKS, so tokens signed before
the rotation stay valid until they expire; the rotation after that drops it. Key IDs (`kid`) are RFC 7638
thumbprints of the public keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mmi.api.settings import ROLES, ApiSettings
from schemas.errors import ConfigError

ALGORITHMS = ("ES256", "RS256")
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def create_keys(api: ApiSettings, algorithm: str = "ES256", rotate: bool = False) -> str:
    """Write a new signing key and publish its public key; the new `kid`. Without `rotate`, refuse to replace keys."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"key algorithm {algorithm}: use one of {ALGORITHMS}")
    if api.signing_key.exists() and not rotate:
        raise ConfigError(f"{api.signing_key} already exists: pass --rotate to replace it (the old public key stays valid)")
    key: PrivateKey = ec.generate_private_key(ec.SECP256R1()) if algorithm == "ES256" else rsa.generate_private_key(65537, 3072)
    public = public_jwk(key, algorithm)
    kept = [jwk for jwk in _read_jwks(api.jwks) if jwk.get("kid") != public["kid"]][:1] if rotate else []
    api.jwks.parent.mkdir(parents=True, exist_ok=True)
    api.jwks.write_text(json.dumps({"keys": [public, *kept]}, indent=2) + "\n", encoding="utf-8")
    api.signing_key.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(api.signing_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return str(public["kid"])


def ensure_keys(api: ApiSettings) -> bool:
    """Create the key pair if there is none yet; whether one was created."""
    if api.signing_key.exists():
        return False
    create_keys(api)
    return True


def public_jwk(key: PrivateKey, algorithm: str) -> dict[str, Any]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        members: tuple[str, ...] = ("crv", "kty", "x", "y")
    else:
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        members = ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return {**{name: jwk[name] for name in members}, "kid": kid, "alg": algorithm, "use": "sig"}


def _read_jwks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    keys: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8")).get("keys", [])
    return keys


def load_signing_key(api: ApiSettings) -> tuple[PrivateKey, str, str]:
    """The private key, its algorithm and kid."""
    try:
        key = serialization.load_pem_private_key(api.signing_key.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"no signing key at {api.signing_key}: run `mmi keys --config C` first") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError(f"{api.signing_key} holds a {type(key).__name__}: use an EC P-256 or RSA key")
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    return key, algorithm, public_jwk(key, algorithm)["kid"]


def issue_token(
    api: ApiSettings, role: str, subject: str, ttl_seconds: int | None = None, *, jurisdiction: tuple[str, ...] | None = None
) -> str:
    """A signed bearer token for `subject` in `role`, valid for `ttl_seconds` (default: the config's); with
    `jurisdiction` (district code prefixes) it reaches only records there, without it everywhere."""
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {list(ROLES)}")
    key, algorithm, kid = load_signing_key(api)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": api.issuer,
        "aud": api.audience,
        "sub": subject,
        "role": role,
        "iat": now,
        "exp": now + (ttl_seconds or api.token_ttl_seconds),
        "jti": secrets.token_urlsafe(16),  # what `mmi token revoke` names
    }
    if jurisdiction is not None:
        claims["jurisdiction"] = list(jurisdiction)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})
