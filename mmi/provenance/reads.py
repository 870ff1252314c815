"""Auditors' own reads, recorded: every provenance read writes who, when and what to `audit_read` and appends the
row to the tamper-evident log (kind `audit_read`), in one transaction.

What was looked up is kept as it is when it is an identifier of the index (a master ID, a record key); an ID
number or a name searched for is kept only as its HMAC-SHA-256 under the deployment's read-terms key
(mmi.audit.read_terms; the column keeps its first name, `query_sha256`, since the log's digests of earlier reads
name it), so the record of who looked at whom holds no personal data of its own and cannot be reversed by
enumerating ID numbers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, select

from mmi.audit.log import append
from mmi.audit.read_terms import term_digest
from mmi.principal import Principal
from mmi.provenance.models import ReadPage, ReadView
from mmi.store.audit_tables import audit_read

CHANNELS = ("api", "page")
HASHED_QUERIES = frozenset({"id_number", "name"})
MAX_READS = 500


def record_read(
    engine: Engine,
    principal: Principal,
    channel: str,
    what: str,
    *,
    target: str | None = None,
    query_kind: str | None = None,
    query: str | None = None,
    as_of: dt.datetime | None = None,
    results: int = 0,
    terms_key: bytes | None = None,
) -> int:
    """Store the read and append its leaf; the read's ID. `query` (the terms asked for) is stored only as its keyed
    digest (under `terms_key`) when `query_kind` is an ID number or a name, and in clear otherwise (then it is the
    target)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r}: one of {CHANNELS}")
    hashed = None
    if query is not None and query_kind in HASHED_QUERIES:
        if terms_key is None:
            raise ValueError(f"a {query_kind} searched for is kept keyed-hashed: give terms_key")
        hashed = term_digest(terms_key, query)
    if query is not None and query_kind not in HASHED_QUERIES and target is None:
        target = query
    values = {
        "subject": principal.subject,
        "role": principal.role,
        "channel": channel,
        "what": what,
        "target": target,
        "query_kind": query_kind,
        "query_sha256": hashed,
        "as_of": as_of,
        "results": results,
        "read_at": dt.datetime.now(dt.UTC),
    }
    with engine.begin() as connection:
        read_id = int(connection.execute(insert(audit_read).values(**values).returning(audit_read.c.id)).scalar_one())
        row = connection.execute(select(audit_read).where(audit_read.c.id == read_id)).one()._mapping
        append(connection, "audit_read", table=audit_read, row=row)
    return read_id


def recent_reads(engine: Engine, limit: int = 50, subject: str | None = None) -> ReadPage:
    """The newest reads first (at most MAX_READS), optionally of one subject."""
    query = select(audit_read).order_by(audit_read.c.id.desc()).limit(max(1, min(limit, MAX_READS)))
    if subject is not None:
        query = query.where(audit_read.c.subject == subject)
    with engine.connect() as connection:
        return ReadPage(items=[ReadView(**row._mapping) for row in connection.execute(query)])
