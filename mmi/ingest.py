"""Ingest: every connector's deliveries, standardised, into versioned source records or quarantine.

`ingest(settings)` is what `mmi ingest` and the Airflow ingest DAGs run. One department failing (its API down,
its folder missing) does not stop the others; its report carries the error, and its cursor stays where the last
stored checkpoint left it.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from connectors import Checkpoint, Connector, Delivery, Row, Unreadable, connectors_for
from connectors.base import payload_json
from connectors.registry import source
from mmi.audit.checkpoints import AuditSettings, audit_settings, make_checkpoint
from mmi.config import Settings
from mmi.standardising import PARALLEL_AFTER, Item, Standardised, Standardiser
from mmi.store.database import open_store, refresh_statistics
from mmi.store.faults import describe, store_fault
from mmi.store.heartbeat import fail_dead_runs
from mmi.store.landing import BatchWriter, PendingQuarantine, PendingVersion, StoredSourceState
from mmi.store.locks import step_lock
from mmi.store.tables import ingest_batch
from schemas.errors import MMIError, TransientError

log = logging.getLogger(__name__)

FLUSH_ROWS = 5000  # rows gathered before the next checkpoint writes them: one transaction per ~5,000 rows
MAX_PENDING = 50_000  # rows at which to write even before a checkpoint (bounds memory; connectors checkpoint far sooner)
SEGMENT_ROWS = 1000  # rows standardised together: large enough to amortise the hand-over to a worker process
LOOK_AHEAD = 2  # segments read and standardising ahead of the one being stored


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


def ingest(settings: Settings, engine: Engine, only: str | None = None, *, parallel: bool = False) -> list[IngestReport]:
    """Ingest every configured department (or only one), each on its own: one failing does not stop the others.

    With `parallel`, departments run side by side in worker processes, one per core: they share nothing but the
    store (their own batches, cursors and keys), so this changes what is stored in no way, only how fast.
    """
    connectors = connectors_for(settings.sources, only)
    workers = min(os.cpu_count() or 1, len(connectors))
    if not parallel or workers < 2:
        reports = [_guarded(connector.department, _ingest_locked, engine, settings, connector) for connector in connectors]
    else:
        names = [connector.department for connector in connectors]
        # Largest feeds first, so no core is left with the biggest one at the end; before any run, each source's
        # typical share decides (health has two streams, public security registers nearly everyone, statistics samples).
        order = sorted(names, key=lambda name: (-_last_delivered(engine, name), -source(name).typical_share))
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {name: pool.submit(_ingest_in_child, settings, name) for name in order}
            reports = [_guarded(name, Future.result, futures[name]) for name in names]
    if any(report.new_versions for report in reports):
        refresh_statistics(engine)  # the link run that follows plans its reads of the new records with them
    return reports


def _guarded(department: str, run: Callable[..., IngestReport], *args: Any, **kwargs: Any) -> IngestReport:
    """A department's report, also when its ingest failed outside its feed: the store (a lost connection is
    transient: retry), another run holding its lock (transient), or a bug (logged). The other departments go on.
    The message is mmi.store.faults': a database's error never brings the rows' values along."""
    try:
        return run(*args, **kwargs)
    except Exception as failure:
        fault = store_fault(failure)
        if fault is None:  # a bug: logged with its traceback
            log.exception("%s: ingest failed unexpectedly", department)
            message = f"unexpected failure ({type(failure).__name__}: {failure}); see the log"
        else:
            log.warning("%s: %s", department, fault)
            message = str(fault)
        return IngestReport(department, None, 0, 0, 0, 0, 0, error=message, transient=isinstance(fault, TransientError))


def _ingest_locked(engine: Engine, settings: Settings, connector: Connector, parallel_after: int | None = PARALLEL_AFTER) -> IngestReport:
    """One department under its lock (two runs of one department never overlap); a batch whose process died is
    marked failed first."""
    store = settings.store
    department = connector.department
    with step_lock(engine, f"ingest:{department}", store.lock_wait_seconds):
        fail_dead_runs(engine, ingest_batch, store.stale_after_seconds, where=ingest_batch.c.department == department)
        report = ingest_department(engine, connector, parallel_after=parallel_after, heartbeat_seconds=store.heartbeat_seconds)
    return _checkpointed(engine, audit_settings(settings), report)


def _ingest_in_child(settings: Settings, department: str) -> IngestReport:
    def run() -> IngestReport:
        engine = open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds)
        try:
            [connector] = connectors_for(settings.sources, department)
            # The cores are taken by the departments: no extra standardising process on top.
            return _ingest_locked(engine, settings, connector, parallel_after=None)
        finally:
            engine.dispose()

    return _guarded(department, run)  # here, so that only a plain report crosses back to the parent


def _checkpointed(engine: Engine, audit: AuditSettings, report: IngestReport) -> IngestReport:
    """The department's batch is over: sign the log's head, so its leaves are covered by a checkpoint (mmi.audit)."""
    if report.batch_id is not None:
        make_checkpoint(engine, audit, f"ingest {report.department}")
    return report


def _last_delivered(engine: Engine, department: str) -> int:
    """Rows the department delivered in its largest run so far (0 if none)."""
    with engine.connect() as connection:
        query = select(func.max(ingest_batch.c.delivered)).where(ingest_batch.c.department == department)
        return int(connection.execute(query).scalar_one_or_none() or 0)


def ingest_department(
    engine: Engine,
    connector: Connector,
    *,
    flush_rows: int = FLUSH_ROWS,
    parallel_after: int | None = PARALLEL_AFTER,
    heartbeat_seconds: float | None = None,
) -> IngestReport:
    """One department: read, standardise (in a worker process once the run is large) and store, in feed order."""
    writer = BatchWriter(engine, connector.department, heartbeat_seconds=heartbeat_seconds)
    state = StoredSourceState(engine, connector.department)
    error: MMIError | None = None
    in_flight: deque[tuple[list[Delivery], Future[list[Standardised | str]]]] = deque()
    try:
        with Standardiser(parallel_after) as standardiser:
            try:
                for segment in _segments(connector.deliveries(state)):
                    in_flight.append((segment, standardiser.submit(_items(connector, segment))))
                    if len(in_flight) > LOOK_AHEAD:
                        _store(writer, *in_flight.popleft(), flush_rows)
            except MMIError as failure:
                error = failure
                log.warning("%s: %s", connector.department, failure)
            while in_flight:  # rows read before a failure are complete and stored like any others
                _store(writer, *in_flight.popleft(), flush_rows)
        writer.finish(str(error) if error else None)
    except BaseException as failure:  # the store failed (or a bug): stop the heartbeat, mark the batch failed
        writer.abandon(describe(failure))
        raise
    return IngestReport(
        connector.department,
        writer.batch_id,
        **writer.counts.as_dict(),
        error=str(error) if error else None,
        transient=isinstance(error, TransientError),
    )


def _segments(deliveries: Iterator[Delivery]) -> Iterator[list[Delivery]]:
    """Deliveries in feed order, cut after each checkpoint and after SEGMENT_ROWS rows at most."""
    segment: list[Delivery] = []
    rows = 0
    for delivery in deliveries:
        segment.append(delivery)
        rows += isinstance(delivery, Row)
        if rows >= SEGMENT_ROWS or isinstance(delivery, Checkpoint):
            yield segment
            segment, rows = [], 0
    if segment:
        yield segment


def _items(connector: Connector, segment: list[Delivery]) -> list[Item]:
    items = []
    for delivery in segment:
        if not isinstance(delivery, Row):
            continue
        try:
            fields = connector.to_raw_person(delivery.payload) if delivery.kind == "person" else delivery.payload
        except Exception as failure:  # noqa: BLE001 - a row the mapping cannot take is quarantined, not fatal
            items.append(
                Item(
                    "unmappable",
                    {"reason": f"the row does not fit {connector.department}'s columns ({type(failure).__name__}: {failure})"},
                    delivery.payload,
                )
            )
        else:
            items.append(Item(delivery.kind, fields, delivery.payload))
    return items


def _store(writer: BatchWriter, segment: list[Delivery], results: Future[list[Standardised | str]], flush_rows: int) -> None:
    """Hand a standardised segment to the writer, in the order it was delivered."""
    outcomes = iter(results.result())
    for delivery in segment:
        if isinstance(delivery, Checkpoint):
            writer.checkpoint(delivery.stream, delivery.cursor, delivery.taken_file, flush_rows=flush_rows)
        elif isinstance(delivery, Unreadable):
            writer.add_quarantine(PendingQuarantine(delivery.stream, delivery.location, delivery.reason, delivery.raw, delivery.source_key))
        else:
            outcome = next(outcomes)
            if isinstance(outcome, str):
                raw = payload_json(delivery.payload).encode("utf-8")
                writer.add_quarantine(PendingQuarantine(delivery.stream, delivery.location, outcome, raw, delivery.source_key))
            else:
                writer.add_version(
                    PendingVersion(
                        delivery.kind, delivery.source_key, delivery.location, outcome.columns, outcome.payload_text, outcome.payload_sha256
                    )
                )
        if writer.pending >= MAX_PENDING:
            writer.flush()
