"""The provenance service: what auditors read, for the JSON API (mmi.api.provenance) and the pages (mmi.web.audit_pages).

    master(engine, principal, master_id, as_of=None)          the golden record now or as of a time, with sources,
                                                               records, events, decisions and deliveries
    record(engine, principal, department, source_key, version) a source version: raw payload, origin, standardised
    disclosures(engine, principal, subscriptions, changesets_dir, terms_key, ...)
                                                               who received which of a person's fields, and downloads
    search(engine, principal, kind, query, terms_key)          masters by ID number, name, master ID or record key
    reads(engine, principal, limit)                            the auditors' recent reads
    state(engine, principal)                                   the log's size, latest checkpoint, last verification

Every function checks the role (auditor or admin; NotAllowed otherwise) and the caller's jurisdiction (what lies
outside it is NotFound, as if it did not exist), and every read of a person (master, record, disclosures, search)
is recorded with who asked, through which channel, and what (mmi.provenance.reads), in the tamper-evident log too;
an ID number or name searched for only as its digest under `terms_key` (mmi.audit.read_terms).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine

from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.provenance import disclosures as _disclosures
from mmi.provenance import search as _search
from mmi.provenance.access import AUDITORS, MAX_TEXT, require_auditor
from mmi.provenance.errors import InvalidQuery, NotAllowed, NotFound, ProvenanceError
from mmi.provenance.log_state import log_state
from mmi.provenance.masters import master_view
from mmi.provenance.models import Disclosures, LogState, MasterView, ReadPage, RecordVersionView, SearchKind, SearchResult
from mmi.provenance.reads import recent_reads, record_read
from mmi.provenance.records import record_version

__all__ = [
    "AUDITORS",
    "InvalidQuery",
    "NotAllowed",
    "NotFound",
    "ProvenanceError",
    "disclosures",
    "master",
    "reads",
    "record",
    "search",
    "state",
]


def _text(name: str, value: str) -> str:
    if not value.strip() or len(value) > MAX_TEXT:
        raise InvalidQuery(f"{name}: give 1 to {MAX_TEXT} characters")
    return value.strip()


def _utc(when: dt.datetime) -> dt.datetime:
    """The time in UTC (a time without a zone, as a date picker sends it, is read as UTC)."""
    try:
        return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise InvalidQuery(f"as_of {when.isoformat()}: out of range") from None


def master(engine: Engine, principal: Principal, master_id: str, as_of: dt.datetime | None = None, channel: str = "api") -> MasterView:
    require_auditor(principal)
    master_id = _text("master_id", master_id)
    if as_of is not None:
        as_of = _utc(as_of)
    with engine.connect() as connection:
        view = master_view(connection, principal, master_id, as_of)
    record_read(engine, principal, channel, "master", target=master_id, as_of=as_of, results=1)
    return view


def record(engine: Engine, principal: Principal, department: str, source_key: str, version: int, channel: str = "api") -> RecordVersionView:
    require_auditor(principal)
    department, source_key = _text("department", department), _text("source_key", source_key)
    with engine.connect() as connection:
        view = record_version(connection, principal, department, source_key, version)
    record_read(engine, principal, channel, "record", target=f"{department}|{source_key}|{version}", results=1)
    return view


def disclosures(
    engine: Engine,
    principal: Principal,
    subscriptions: Mapping[str, Subscription],
    changesets_dir: Path,
    terms_key: bytes,
    *,
    master_id: str | None = None,
    department: str | None = None,
    source_key: str | None = None,
    id_number: str | None = None,
    channel: str = "api",
) -> Disclosures:
    require_auditor(principal)
    if (department is None) != (source_key is None):
        raise InvalidQuery("a record is named by both department and source_key")
    record_key = (_text("department", department), _text("source_key", source_key)) if department and source_key else None
    master_id = _text("master_id", master_id) if master_id is not None else None
    id_number = _text("id_number", id_number) if id_number is not None else None
    with engine.connect() as connection:
        masters = _disclosures.subject_masters(connection, master_id, record_key, id_number)
        found = _disclosures.disclosures(connection, principal, masters, subscriptions, changesets_dir)
    if id_number is not None:
        record_read(
            engine,
            principal,
            channel,
            "disclosures",
            query_kind="id_number",
            query=id_number,
            results=len(found.items),
            terms_key=terms_key,
        )
    else:
        kind, target = ("master_id", master_id) if master_id is not None else ("record_key", "|".join(record_key or ()))
        record_read(engine, principal, channel, "disclosures", query_kind=kind, query=target, results=len(found.items))
    return found


def search(engine: Engine, principal: Principal, kind: SearchKind, query: str, terms_key: bytes, channel: str = "api") -> SearchResult:
    require_auditor(principal)
    query = _text("query", query)
    with engine.connect() as connection:
        found = _search.search(connection, principal, kind, query)
    record_read(engine, principal, channel, "search", query_kind=kind, query=query, results=len(found.hits), terms_key=terms_key)
    return found


def reads(engine: Engine, principal: Principal, limit: int = 50) -> ReadPage:
    require_auditor(principal)
    return recent_reads(engine, limit)


def state(engine: Engine, principal: Principal) -> LogState:
    require_auditor(principal)
    with engine.connect() as connection:
        return log_state(connection)
