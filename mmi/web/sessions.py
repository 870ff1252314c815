"""Signed-in sessions, kept server-side, and the one-time sign-in codes of `mmi login`.

A browser holds only a random session ID in an HttpOnly, SameSite=Strict cookie; the store keeps its SHA-256
with who signed in, a CSRF token, and the times that end it: an idle timeout (last use), a latest end (the
session's maximum, or a pasted token's own expiry if sooner), and sign-out. A sign-in code from `mmi login` is
the same kind of secret: only its hash is stored, it is good once and for minutes, so a link that lingers in a
terminal's scrollback or a browser's history opens nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, and_, delete, insert, select, update

from mmi.principal import Principal
from mmi.store.web_tables import web_login_code, web_session
from mmi.web.settings import WebSettings

# A session's last use is written at most this often: reading a page should not always write to the store.
_TOUCH_EVERY = dt.timedelta(seconds=30)
_KEEP_SPENT = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str
    via: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class NewSession:
    cookie_value: str  # the secret for the browser; the store never sees it
    session: Session


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _jurisdiction_json(principal: Principal) -> str | None:
    return None if principal.jurisdiction is None else json.dumps(list(principal.jurisdiction))


def _principal(row: Row[Any]) -> Principal:
    jurisdiction = row.jurisdiction
    return Principal(
        subject=row.subject,
        role=row.role,
        jurisdiction=None if jurisdiction is None else tuple(json.loads(jurisdiction)),
        token_id=getattr(row, "token_jti", None),  # a session made from a pasted token; a sign-in code has none
    )


def create_login_code(engine: Engine, web: WebSettings, principal: Principal) -> str:
    """A fresh sign-in code for `principal`, good once within `web.login_code_seconds`."""
    code = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as connection:
        # Codes that can no longer be used are of no use to anyone: each new one clears them away.
        connection.execute(delete(web_login_code).where(web_login_code.c.expires_at < now - _KEEP_SPENT))
        connection.execute(
            insert(web_login_code).values(
                code_sha256=_hash(code),
                subject=principal.subject,
                role=principal.role,
                jurisdiction=_jurisdiction_json(principal),
                created_at=now,
                expires_at=now + dt.timedelta(seconds=web.login_code_seconds),
            )
        )
    return code


def login_link(web: WebSettings, code: str) -> str:
    return f"{web.public_url}/ui/login?code={code}"


def redeem_login_code(engine: Engine, code: str) -> Principal | None:
    """Who the code signs in, once: the code is spent in the same statement that checks it, so two browsers racing
    with one link get one session between them. None for an unknown, spent or expired code."""
    digest, now = _hash(code), _now()
    with engine.begin() as connection:
        spent = connection.execute(
            update(web_login_code)
            .where(and_(web_login_code.c.code_sha256 == digest, web_login_code.c.used_at.is_(None), web_login_code.c.expires_at > now))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            return None
        row = connection.execute(select(web_login_code).where(web_login_code.c.code_sha256 == digest)).one()
    return _principal(row)


def start_session(engine: Engine, web: WebSettings, principal: Principal, via: str, not_after: dt.datetime | None = None) -> NewSession:
    """A new session for `principal`; it ends at the latest after `web.session_max_seconds` or at `not_after`."""
    secret, now = secrets.token_urlsafe(32), _now()
    expires = now + dt.timedelta(seconds=web.session_max_seconds)
    if not_after is not None:
        expires = min(expires, not_after)
    csrf = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            insert(web_session).values(
                id_sha256=_hash(secret),
                subject=principal.subject,
                role=principal.role,
                jurisdiction=_jurisdiction_json(principal),
                csrf_token=csrf,
                via=via,
                token_jti=principal.token_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
    return NewSession(secret, Session(principal, csrf, via, expires))


def load_session(engine: Engine, web: WebSettings, cookie_value: str) -> Session | None:
    """The live session the cookie names, its last use noted; None if unknown, signed out, idle or past its end."""
    digest, now = _hash(cookie_value), _now()
    with engine.connect() as connection:
        row = connection.execute(select(web_session).where(web_session.c.id_sha256 == digest)).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=web.idle_timeout_seconds):
        end_session(engine, cookie_value)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        with engine.begin() as connection:
            connection.execute(update(web_session).where(web_session.c.id_sha256 == digest).values(last_seen_at=now))
    return Session(_principal(row), row.csrf_token, row.via, row.expires_at)


def end_session(engine: Engine, cookie_value: str) -> None:
    """Sign out: the session is over for good, whoever holds a copy of its cookie."""
    with engine.begin() as connection:
        connection.execute(
            update(web_session)
            .where(and_(web_session.c.id_sha256 == _hash(cookie_value), web_session.c.ended_at.is_(None)))
            .values(ended_at=_now())
        )
