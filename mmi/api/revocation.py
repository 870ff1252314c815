"""Revoking bearer tokens before they expire: `mmi token revoke --config C TOKEN|JTI`, checked on every request.

Every token `mmi token` issues carries a `jti`; revoking one adds it to the store's deny list
(`token_revocation`) and logs the row in the audit log (kind `revocation`) in the same transaction. The API and the
pages ask a `DenyList`, which holds the list's current jtis in memory and reads them again when its copy is older
than `[api] revocation_cache_seconds`: a revocation takes effect in every server process within that time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import jwt
from sqlalchemy import Engine, select

from mmi.audit.log import append
from mmi.bounds import MAX_NAME
from mmi.store.token_tables import token_revocation
from schemas.errors import ConfigError


@dataclass(frozen=True)
class Revoked:
    jti: str
    subject: str | None
    already: bool  # it was on the list before


def revoke(engine: Engine, token_or_jti: str, by: str) -> Revoked:
    """Put the token (or the token with this jti) on the deny list, once; ConfigError for a token without a jti."""
    value = token_or_jti.strip()
    if value.count(".") == 2:  # a JWT: its claims say whose it is (a forged one only revokes its own jti)
        try:
            claims = jwt.decode(value, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise ConfigError(f"not a token: {error}") from None
        jti, subject, role, expires = claims.get("jti"), claims.get("sub"), claims.get("role"), claims.get("exp")
        if not isinstance(jti, str) or not jti:
            raise ConfigError("the token has no jti: it was issued before tokens carried one; rotate the keys (`mmi keys --rotate`)")
    else:
        jti, subject, role, expires = value, None, None, None
    if not jti or len(jti) > 64:
        raise ConfigError(f"jti {jti!r}: give the token, or its jti (at most 64 characters)")
    owner = str(subject)[:MAX_NAME] if subject is not None else None
    row = {
        "jti": jti,
        "subject": owner,
        "role": str(role)[:16] if role is not None else None,
        "expires_at": dt.datetime.fromtimestamp(expires, dt.UTC) if isinstance(expires, int) else None,
        "revoked_at": dt.datetime.now(dt.UTC),
        "revoked_by": by[:MAX_NAME],
    }
    with engine.begin() as connection:
        if connection.execute(select(token_revocation.c.jti).where(token_revocation.c.jti == jti)).first() is not None:
            return Revoked(jti, owner, already=True)
        connection.execute(token_revocation.insert().values(**row))
        append(connection, "revocation", table=token_revocation, row=row)
    return Revoked(jti, owner, already=False)


class DenyList:
    """The revoked jtis, as of at most `max_age` seconds ago."""

    def __init__(self, engine: Engine, max_age: float) -> None:
        self.engine = engine
        self.max_age = max_age
        self._lock = threading.Lock()
        self._jtis: frozenset[str] = frozenset()
        self._read_at = -float("inf")

    def revoked(self, jti: str | None) -> bool:
        if jti is None:
            return False
        now = time.monotonic()
        with self._lock:
            if now - self._read_at >= self.max_age:
                self._jtis = self._read()
                self._read_at = now
            return jti in self._jtis

    def _read(self) -> frozenset[str]:
        now = dt.datetime.now(dt.UTC)
        query = select(token_revocation.c.jti).where((token_revocation.c.expires_at.is_(None)) | (token_revocation.c.expires_at > now))
        with self.engine.connect() as connection:
            return frozenset(connection.execute(query).scalars())
