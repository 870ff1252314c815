"""Ingest: every connector's deliveries, standardised, into versioned source records or quarantine.

`ingest(settings)` is what `mmi ingest` and the Airflow ingest DAGs run. One department failing (its API down,
its folder missing) does not stop the others; its report carries the error, and its cursor stays where the last
stored checkpoint left it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from connectors import Checkpoint, Connector, Row, Unreadable, connectors_for
from connectors.base import payload_json
from linkage.standardise.record import UnusableRecord, standardise_person, standardise_service
from mmi.config import Settings
from mmi.errors import MMIError, TransientError
from mmi.store.batches import BatchWriter, PendingQuarantine, PendingVersion, StoredSourceState
from schemas.canonical import PERSON_FIELDS, SERVICE_FIELDS

log = logging.getLogger(__name__)

FLUSH_ROWS = 5000  # rows gathered before the next checkpoint writes them: one transaction per ~5,000 rows
MAX_PENDING = 50_000  # rows at which to write even before a checkpoint (bounds memory; connectors checkpoint far sooner)


@dataclass
class IngestReport:
    department: str
    batch_id: int | None
    delivered: int
    new_versions: int
    unchanged: int
    quarantined: int
    already_quarantined: int
    error: str | None = None
    transient: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def ingest(settings: Settings, engine: Engine, only: str | None = None) -> list[IngestReport]:
    """Ingest every configured department (or only one), each on its own."""
    return [ingest_department(engine, connector) for connector in connectors_for(settings, only)]


def ingest_department(engine: Engine, connector: Connector, *, flush_rows: int = FLUSH_ROWS) -> IngestReport:
    writer = BatchWriter(engine, connector.department)
    state = StoredSourceState(engine, connector.department)
    error: MMIError | None = None
    try:
        for delivery in connector.deliveries(state):
            if isinstance(delivery, Checkpoint):
                writer.checkpoint(delivery.stream, delivery.cursor, delivery.taken_file, flush_rows=flush_rows)
            elif isinstance(delivery, Unreadable):
                writer.add_quarantine(PendingQuarantine(delivery.stream, delivery.location, delivery.reason, delivery.raw, delivery.source_key))
            else:
                _add_row(writer, connector, delivery)
            if writer.pending >= MAX_PENDING:
                writer.flush()
    except MMIError as failure:
        error = failure
        log.warning("%s: %s", connector.department, failure)
    writer.finish(str(error) if error else None)
    return IngestReport(
        connector.department, writer.batch_id, **writer.counts.as_dict(),
        error=str(error) if error else None, transient=isinstance(error, TransientError),
    )


def _add_row(writer: BatchWriter, connector: Connector, row: Row) -> None:
    """Standardise one row; whatever goes wrong with it quarantines that row alone."""
    try:
        if row.kind == "person":
            record: Any = standardise_person(connector.to_raw_person(row.payload))
        else:
            record = standardise_service(row.payload)
    except UnusableRecord as unusable:
        reason = str(unusable)
    except Exception as failure:  # noqa: BLE001 - one bad row never stops a run
        reason = f"standardisation failed ({type(failure).__name__}: {failure}); report this row to the MMI team"
    else:
        names = PERSON_FIELDS if row.kind == "person" else SERVICE_FIELDS
        columns = {name: getattr(record, name) for name in names}
        writer.add_version(PendingVersion(row.kind, row.source_key, row.payload, row.location, _storable(columns)))
        return
    raw = payload_json(row.payload).encode("utf-8")
    writer.add_quarantine(PendingQuarantine(row.stream, row.location, reason, raw, row.source_key))


def _storable(columns: dict[str, Any]) -> dict[str, Any]:
    if "detail" in columns:  # a service event's detail object is stored as JSON text
        columns["detail"] = json.dumps(columns["detail"], ensure_ascii=False, sort_keys=True)
    return columns
