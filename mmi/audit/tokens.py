"""The `token` leaf: every bearer token `mmi token` issues, logged by its hash (the token itself is a secret)."""

from __future__ import annotations

import datetime as dt
import hashlib

import jwt
from sqlalchemy import Engine

from mmi.audit.log import append


def log_token(engine: Engine, token: str, role: str, subject: str) -> int:
    """Append the token's leaf; its index."""
    claims = jwt.decode(token, options={"verify_signature": False})
    with engine.begin() as connection:
        return append(
            connection,
            "token",
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            jti=claims.get("jti"),
            role=role,
            subject_sha256=hashlib.sha256(subject.encode()).hexdigest(),
            issued_at=_iso(claims.get("iat")),
            expires_at=_iso(claims.get("exp")),
        )


def _iso(epoch: object) -> str | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(epoch, int) else None
