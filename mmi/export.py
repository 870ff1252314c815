"""CSV exports: what ingest stored (current source records, quarantine) and what linkage decided (xref, review band
and identity conflicts)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, and_, literal_column, null, select

from mmi.store.index_tables import link_conflict, master_xref, match_pair
from mmi.store.tables import quarantine, service_event, source_record
from schemas.canonical import PERSON_FIELDS

RECORD_COLUMNS = ("department", "source_key", "version", *PERSON_FIELDS, "location", "batch_id", "payload_sha256")
XREF_COLUMNS = ("department", "source_key", "master_id")
REVIEW_COLUMNS = (
    "kind",
    "left_key",
    "right_key",
    "match_probability",
    "match_weight",
    "left_master_id",
    "right_master_id",
    "rule",
    "detail",
    "conflicting_left_key",
    "conflicting_right_key",
)
QUARANTINE_COLUMNS = ("department", "location", "source_key", "reason", "stream", "batch_id", "quarantined_at", "payload_sha256")


def export_records(engine: Engine, out: Path) -> int:
    """Every department's current source records: `department,source_key` then the canonical fields."""
    columns = [source_record.c[name] for name in RECORD_COLUMNS]
    query = select(*columns).where(source_record.c.is_current.is_(True)).order_by(source_record.c.department, source_record.c.source_key)
    return _write(engine, query, RECORD_COLUMNS, out)


def export_quarantine(engine: Engine, out: Path) -> int:
    """Everything quarantined: `department,location,source_key,reason`, then where and when."""
    columns = [quarantine.c[name] for name in QUARANTINE_COLUMNS]
    query = select(*columns).order_by(quarantine.c.department, quarantine.c.id)
    return _write(engine, query, QUARANTINE_COLUMNS, out)


def export_xref(engine: Engine, out: Path) -> int:
    """`department,source_key,master_id` for every ingested source record (person records and service events; a
    service belongs to the master of its person). master_id is empty for a record no `mmi link` has seen yet."""
    people = (
        select(source_record.c.department, source_record.c.source_key, master_xref.c.master_id)
        .select_from(
            source_record.outerjoin(
                master_xref,
                and_(master_xref.c.department == source_record.c.department, master_xref.c.source_key == source_record.c.source_key),
            )
        )
        .where(source_record.c.is_current.is_(True))
    )
    services = (
        select(service_event.c.department, service_event.c.source_key, master_xref.c.master_id)
        .select_from(
            service_event.outerjoin(
                master_xref,
                and_(master_xref.c.department == service_event.c.department, master_xref.c.source_key == service_event.c.person_key),
            )
        )
        .where(service_event.c.is_current.is_(True))
    )
    both = people.union_all(services).subquery()
    query = select(both).order_by(both.c.department, both.c.source_key)
    return _write(engine, query, XREF_COLUMNS, out)


def export_review(engine: Engine, out: Path, match_threshold: float) -> int:
    """What stewards review, one line each, `kind` saying which: first every `conflict` (a match an identity-conflict
    rule refused: the rule, what it saw, the two records that conflict), then every `pair` of the review band
    (scored below the match threshold); strongest first, with each record's master."""
    left, right = master_xref.alias("left_xref"), master_xref.alias("right_xref")
    pairs = (
        select(
            literal_column("'pair'", String).label("kind"),
            match_pair.c.left_key,
            match_pair.c.right_key,
            match_pair.c.match_probability,
            match_pair.c.match_weight,
            left.c.master_id.label("left_master_id"),
            right.c.master_id.label("right_master_id"),
            *(null().label(name) for name in REVIEW_COLUMNS[7:]),
            literal_column("1").label("section"),
        )
        .select_from(
            match_pair.outerjoin(left, left.c.department + "|" + left.c.source_key == match_pair.c.left_key).outerjoin(
                right, right.c.department + "|" + right.c.source_key == match_pair.c.right_key
            )
        )
        .where(match_pair.c.match_probability < match_threshold)
    )
    conflicts = select(
        literal_column("'conflict'", String).label("kind"),
        *(link_conflict.c[name] for name in REVIEW_COLUMNS[1:]),
        literal_column("0").label("section"),
    )
    both = pairs.union_all(conflicts).subquery()
    query = select(*(both.c[name] for name in REVIEW_COLUMNS)).order_by(
        both.c.section, both.c.match_probability.desc(), both.c.left_key, both.c.right_key
    )
    return _write(engine, query, REVIEW_COLUMNS, out)


def _write(engine: Engine, query: Any, header: tuple[str, ...], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with engine.connect() as connection, out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        flags_at = list(header).index("quality_flags") if "quality_flags" in header else None
        for row in connection.execution_options(yield_per=5000).execute(query):
            cells = [_cell(value) for value in row]
            if flags_at is not None:  # stored as a JSON list; a spreadsheet reads a;b;c more easily
                cells[flags_at] = ";".join(json.loads(cells[flags_at] or "[]"))
            writer.writerow(cells)
            count += 1
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
