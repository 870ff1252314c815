"""The web pages' tables: signed-in sessions and the one-time sign-in codes that `mmi login` prints.

Neither holds a secret in the clear: the cookie's session ID and the link's code are random and only their
SHA-256 is stored, so a copy of the database signs nobody in.

- `web_login_code`: a code from `mmi login`, good once (`used_at`), until `expires_at` (minutes).
- `web_session`: one signed-in browser: who (subject, role, jurisdiction as JSON list or NULL for everywhere),
  its CSRF token, when it was last used (idle timeout), when it ends at the latest, and when it was signed out; a session made
  from a pasted token keeps the token's `jti`, so that revoking the token ends it too.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from mmi.store.tables import UTCDateTime, metadata

web_login_code = Table(
    "web_login_code",
    metadata,
    Column("code_sha256", String(64), primary_key=True),
    Column("subject", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("jurisdiction", Text),  # JSON list of district prefixes; NULL: everywhere
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

web_session = Table(
    "web_session",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("subject", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("jurisdiction", Text),
    Column("csrf_token", String(64), nullable=False),
    Column("via", String(8), nullable=False),  # link (mmi login) or token (pasted on the sign-in page)
    Column("token_jti", String(64)),  # the pasted token's jti: revoking the token ends the session
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index("ix_web_session_subject", "subject"),
)
