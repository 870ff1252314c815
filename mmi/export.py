"""CSV exports of what ingest stored: current source records, and quarantine."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from mmi.store.tables import quarantine, source_record
from schemas.canonical import PERSON_FIELDS

RECORD_COLUMNS = ("department", "source_key", "version", *PERSON_FIELDS, "location", "batch_id", "payload_sha256")
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
