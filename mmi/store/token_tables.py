"""The deny list of bearer tokens revoked before they expire (`mmi token revoke`).

- `token_revocation`: one row per revoked token, by its `jti` (the ID `mmi token` gives every token): whose it
  was (subject, role), when it would have expired (rows past it can be dropped: the token is refused anyway),
  when and by whom it was revoked. Every row is in the audit log (kind `revocation`).
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from mmi.store.tables import UTCDateTime, metadata

token_revocation = Table(
    "token_revocation",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("subject", String(128)),  # NULL when revoked by jti alone (the log keeps only the subject's hash)
    Column("role", String(16)),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime, nullable=False),
    Column("revoked_by", String(128), nullable=False),
)
