"""Bearer-token checks: asymmetric signatures only, the key chosen by `kid` from the JWKS file, claims required.

A token is refused (401) when it is missing or malformed, lacks its ID (`jti`, what a revocation names), names a `kid` the JWKS does not hold, uses any
algorithm other than the one its key is published for (so `alg: none` and an HMAC signed with a public key both
fail), is expired or issued in the future, has the wrong issuer or audience, or lacks a required claim or a known
role. The JWKS file is read again when it changes, so a rotation needs no restart.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import jwt

from mmi.api.settings import ROLES, ApiSettings
from mmi.principal import Principal
from schemas.errors import ConfigError, MMIError

__all__ = ["KeySet", "Principal", "Unauthorized", "parse_jurisdiction", "verify_token"]

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "role", "jti"]
ASYMMETRIC = {"RS256", "ES256"}
_PREFIX = re.compile(r"^[0-9]{1,6}$")


class Unauthorized(MMIError):
    """The request carries no acceptable token (HTTP 401)."""


class KeySet:
    """The JWKS file's public keys by `kid`, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self.get("")  # fail at start-up, not at the first request, if the file is missing or broken

    def get(self, kid: str) -> jwt.PyJWK | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            raise ConfigError(f"no JWKS file at {self.path}: run `mmi keys --config C`, or set [api] jwks") from None
        with self._lock:
            if self._stamp != (status.st_mtime_ns, status.st_size):
                self._keys = _load(self.path)
                self._stamp = (status.st_mtime_ns, status.st_size)
            return self._keys.get(kid)


def _load(path: Path) -> dict[str, jwt.PyJWK]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = {}
        for entry in document["keys"]:
            if entry.get("alg") not in ASYMMETRIC or not entry.get("kid"):
                raise ValueError(f"key {entry.get('kid')!r} must have a kid and alg RS256 or ES256")
            keys[entry["kid"]] = jwt.PyJWK(entry)
        return keys
    except (ValueError, KeyError, jwt.PyJWKError) as error:
        raise ConfigError(f"{path} is not a usable JWKS: {error}") from None


def verify_token(token: str, keys: KeySet, api: ApiSettings) -> Principal:
    """The token's subject and role; Unauthorized saying why not."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized(f"malformed token: {error}") from None
    key = keys.get(str(header.get("kid", "")))
    if key is None:
        raise Unauthorized("unknown key ID (kid): the token was not signed by a key this service trusts")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[str(key.algorithm_name)],
            audience=api.audience,
            issuer=api.issuer,
            leeway=api.leeway_seconds,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True},
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from None
    if claims["role"] not in ROLES:
        raise Unauthorized(f"unknown role {claims['role']!r}: tokens carry one of {list(ROLES)}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise Unauthorized("the token's subject (sub) is empty")
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 64:
        raise Unauthorized("the token's ID (jti) must be a string of 1 to 64 characters")
    try:
        jurisdiction = parse_jurisdiction(claims.get("jurisdiction"))
    except ValueError as error:
        raise Unauthorized(f"invalid jurisdiction claim: {error}") from None
    return Principal(subject=claims["sub"], role=claims["role"], jurisdiction=jurisdiction, token_id=claims["jti"])


def parse_jurisdiction(value: Any) -> tuple[str, ...] | None:
    """The `jurisdiction` claim: a non-empty list of district code prefixes (1-6 digits); absent means everywhere.
    A comma-separated string ("4101,4102", as `mmi token --jurisdiction` takes it) is read the same way."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise ValueError('give a non-empty list of district code prefixes, e.g. ["4101"], or leave the claim out')
    bad = [prefix for prefix in value if not isinstance(prefix, str) or not _PREFIX.match(prefix)]
    if bad:
        raise ValueError(f"{bad}: each prefix is 1-6 digits of a GB/T 2260 district code")
    return tuple(value)
