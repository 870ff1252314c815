"""The publisher: outbox events → each subscriber's next change sets, one transaction per batch.

Each batch, in one transaction of the store:
1. take the cursor row's lock (one publisher at a time, on SQLite and PostgreSQL alike);
2. read the events in the open gaps (numbers once missing: committed late, or never) and the next events above
   the floor, in sequence order;
3. project them for every subscriber, encode each subscriber's share as change sets numbered after its last one,
   and write the files (each complete or absent);
4. record the change sets, which event went where (a repeat breaks the key), the new floor and gaps; commit.

After the outbox, the worklist files of the health subscribers that list worklists (mmi.exchange.worklists), in
the same sequence, each recorded with the state it moves the subscriber's worklists on to.

A crash before the commit leaves files nobody recorded: the next run makes the same change sets again (the same
numbers, and the same bytes if no event arrived in between) and removes files that lost their number. A crash
after it leaves nothing to redo. So every event reaches each of its subscribers exactly once, in a change set
that is never renumbered.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mmi.audit.checkpoints import AuditSettings, audit_settings, checkpoint, make_checkpoint
from mmi.audit.exchange import log_changesets
from mmi.config import Settings
from mmi.exchange import worklists
from mmi.exchange.changesets import ChangesetFile, Encoded, build_changeset, write_atomically
from mmi.exchange.failpoints import failpoint
from mmi.exchange.gaps import Gap, gaps_after
from mmi.exchange.outbox import reaching, read_events, read_routes
from mmi.exchange.subscriptions import ExchangeSettings, Subscription, exchange_settings
from mmi.exchange.workers import PARALLEL_MIN_EVENTS, EncodingPool, project_and_encode
from mmi.indicators.changes import WorklistChange
from mmi.indicators.definitions import load_definitions
from mmi.store.exchange_tables import changeset, changeset_event, exchange_batch, exchange_cursor, exchange_gap
from mmi.store.landing import bulk_insert

log = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class PublishReport:
    events_read: int = 0
    deliveries: int = 0  # (subscriber, event) pairs put into change sets
    batches: int = 0
    changesets: dict[str, list[int]] = field(default_factory=dict)  # subscriber → sequence numbers made
    floor: int = 0  # every outbox number at or below it was read, except the open gaps
    open_gaps: int = 0  # numbers below the floor still missing
    stale_files_removed: int = 0
    worklist_files: int = 0  # of the change sets made, those that are worklist files (mmi.exchange.worklists)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def publish(settings: Settings, engine: Engine, *, worklists_as_of: dt.date | None = None) -> PublishReport:
    """Build every pending change set from the outbox, then the worklist files of the subscribers that list
    worklists (as of `worklists_as_of`, default: today in China); safe to run again at any time, and after any crash."""
    exchange = exchange_settings(settings)
    report = PublishReport()
    _ensure_cursor(engine)
    report.stale_files_removed += remove_stale_files(engine, exchange.out_dir)
    pool = EncodingPool(engine.url.render_as_string(hide_password=False), exchange.workers) if exchange.workers > 1 else None
    audit = audit_settings(settings)
    try:
        while _without_gc(_publish_batch, engine, exchange, report, pool, audit):
            pass
    finally:
        if pool is not None:
            pool.close()
    if any(subscription.worklists for subscription in exchange.subscriptions.values()):  # nobody else pays for them
        _publish_worklists(engine, exchange, report, worklists_as_of or dt.datetime.now(CHINA).date())
    report.stale_files_removed += remove_stale_files(engine, exchange.out_dir)
    make_checkpoint(engine, audit, "publish")  # covers the change sets' leaves
    failpoint("after_cleanup")
    with engine.connect() as connection:
        report.floor = connection.execute(select(exchange_cursor.c.floor_seq)).scalar_one()
        report.open_gaps = sum(high - low + 1 for low, high in connection.execute(select(exchange_gap.c.low_seq, exchange_gap.c.high_seq)))
    return report


def _without_gc(step: Callable[..., bool], *args: Any) -> bool:
    """Run `step` with the cycle collector paused: a batch allocates many small objects that all live until its
    end, and collecting them as they come costs a quarter of the time. They are freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return step(*args)
    finally:
        if enabled:
            gc.enable()


def _publish_batch(
    engine: Engine, exchange: ExchangeSettings, report: PublishReport, pool: EncodingPool | None, audit: AuditSettings
) -> bool:
    """One transaction: read, encode, write, record. False when there was nothing to read."""
    with engine.begin() as connection:
        floor = _lock_cursor(connection)
        gaps = [Gap(row.low_seq, row.high_seq) for row in connection.execute(select(exchange_gap).order_by(exchange_gap.c.low_seq))]
        late, new = read_routes(connection, floor, bool(gaps), exchange.batch_events)
        failpoint("after_read")
        if not late and not new:
            return False
        subscriptions = list(exchange.subscriptions.values())
        reached = reaching([*late, *new], subscriptions)
        if pool is not None and len(reached) >= PARALLEL_MIN_EVENTS:
            shares = pool.encode(reached, subscriptions)
        else:
            shares = project_and_encode(read_events(connection, reached), subscriptions)
        # The log's checkpoint as of now covers every event read: each file carries it (mmi.checkpoint).
        files, deliveries = _make_changesets(connection, exchange, shares, checkpoint(connection, audit, "publish"))
        failpoint("after_files_written")
        new_floor = new[-1].seq if new else floor
        remaining = gaps_after(gaps, [route.seq for route in late], floor, [route.seq for route in new])
        _record(connection, files, deliveries, floor, new_floor, remaining, len(late) + len(new))
        failpoint("before_commit")
    failpoint("after_commit")
    report.batches += 1
    report.events_read += len(late) + len(new)
    report.deliveries += len(deliveries)
    for made in files:
        report.changesets.setdefault(made.subscriber, []).append(made.seq)
    log.info("published %d events: %d deliveries in %d change sets", len(late) + len(new), len(deliveries), len(files))
    return True


def _publish_worklists(engine: Engine, exchange: ExchangeSettings, report: PublishReport, as_of: dt.date) -> None:
    """Each worklist subscriber's next worklist file, numbered after its last change set, when anything changed.

    The worklists are computed before the lock (reading only); under the lock each subscriber's delivered state is
    read again, and one that another publisher moved on meanwhile is left to the next run, so a change is never
    delivered twice."""
    definitions = load_definitions()
    pending = {
        subscription.name: (subscription, *worklists.pending_changes(engine, subscription, as_of, definitions))
        for subscription in exchange.subscriptions.values()
        if subscription.worklists
    }
    with engine.begin() as connection:
        floor = _lock_cursor(connection)
        last_seq = dict(
            connection.execute(select(changeset.c.subscriber, func.max(changeset.c.seq)).group_by(changeset.c.subscriber)).all()
        )
        made: list[tuple[ChangesetFile, list[WorklistChange]]] = []
        for name, (subscription, previous, changes) in pending.items():
            if not changes or worklists.delivered_state(connection, name) != previous:
                continue
            built = worklists.build_worklist_file(subscription, (last_seq.get(name) or 0) + 1, changes, as_of, definitions, floor)
            write_atomically(exchange.out_dir / built.file_name, built.content)
            made.append((built, changes))
        if not made:
            return
        _record_files(connection, [built for built, _ in made], [], floor, floor, 0, _now())
        for built, changes in made:
            worklists.record_worklist_file(connection, built, changes, as_of, definitions.version)
    for built, _changes in made:
        report.changesets.setdefault(built.subscriber, []).append(built.seq)
        report.worklist_files += 1


def _ensure_cursor(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.execute(select(exchange_cursor.c.id)).first():
            return
    try:
        with engine.begin() as connection:
            connection.execute(insert(exchange_cursor).values(id=1, floor_seq=0, updated_at=_now()))
    except IntegrityError:
        pass  # another publisher made it first


def _lock_cursor(connection: Connection) -> int:
    """Lock the cursor row for the transaction (PostgreSQL: row lock; SQLite: the write lock); its floor."""
    connection.execute(update(exchange_cursor).where(exchange_cursor.c.id == 1).values(updated_at=_now()))
    return int(connection.execute(select(exchange_cursor.c.floor_seq).where(exchange_cursor.c.id == 1)).scalar_one())


def _make_changesets(
    connection: Connection, exchange: ExchangeSettings, shares: dict[str, list[Encoded]], note: str | None
) -> tuple[list[ChangesetFile], list[dict[str, Any]]]:
    """Write each subscriber's encoded share as its next change sets; the files and the (subscriber, event) rows."""
    last_seq = dict(connection.execute(select(changeset.c.subscriber, func.max(changeset.c.seq)).group_by(changeset.c.subscriber)).all())
    files: list[ChangesetFile] = []
    deliveries: list[dict[str, Any]] = []
    for name, subscription in exchange.subscriptions.items():
        share = shares.get(name, [])
        seq = last_seq.get(name) or 0
        for start in range(0, len(share), exchange.max_events):
            seq += 1
            part = share[start : start + exchange.max_events]
            files.append(_write(exchange.out_dir, subscription, seq, part, note))
            deliveries += [{"subscriber": name, "outbox_seq": outbox_seq, "changeset_seq": seq} for outbox_seq, _ in part]
    return files, deliveries


def _write(out_dir: Path, subscription: Subscription, seq: int, records: list[Encoded], note: str | None) -> ChangesetFile:
    made = build_changeset(subscription, seq, records, checkpoint=note)
    write_atomically(out_dir / made.file_name, made.content)
    failpoint("after_file_written")
    return made


def _record(
    connection: Connection,
    files: list[ChangesetFile],
    deliveries: list[dict[str, Any]],
    floor: int,
    new_floor: int,
    gaps: list[Gap],
    events_read: int,
) -> None:
    now = _now()
    _record_files(connection, files, deliveries, floor, new_floor, events_read, now)
    connection.execute(delete(exchange_gap))
    if gaps:
        connection.execute(
            insert(exchange_gap), [{"low_seq": gap.low, "high_seq": gap.high, "found_at": gap.found_at or now} for gap in gaps]
        )
    connection.execute(update(exchange_cursor).where(exchange_cursor.c.id == 1).values(floor_seq=new_floor, updated_at=now))


def _record_files(
    connection: Connection,
    files: list[ChangesetFile],
    deliveries: list[dict[str, Any]],
    floor: int,
    new_floor: int,
    events_read: int,
    now: dt.datetime,
) -> None:
    """The batch, its numbered files, which event went where, and their leaves in the audit log."""
    batch_id = connection.execute(
        insert(exchange_batch).values(
            published_at=now,
            floor_before=floor,
            floor_after=new_floor,
            events_read=events_read,
            deliveries=len(deliveries),
            changesets=len(files),
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    if files:
        connection.execute(
            insert(changeset),
            [
                {
                    "subscriber": made.subscriber,
                    "seq": made.seq,
                    "batch_id": batch_id,
                    "events": made.events,
                    "first_outbox_seq": made.first_outbox_seq,
                    "last_outbox_seq": made.last_outbox_seq,
                    "file_name": made.file_name,
                    "sha256": made.sha256,
                    "size": len(made.content),
                    "schema_version": made.schema_version,
                    "schema_fingerprint": made.schema_fingerprint,
                    "created_at": now,
                }
                for made in files
            ],
        )
    if deliveries:
        bulk_insert(connection, changeset_event, deliveries)  # COPY on PostgreSQL
    log_changesets(connection, files, deliveries)


def remove_stale_files(engine: Engine, out_dir: Path) -> int:
    """Remove change-set files a crash left unrecorded whose number has since gone to a recorded file."""
    if not out_dir.exists():
        return 0
    removed = 0
    with engine.begin() as connection:
        _lock_cursor(connection)  # no publisher is between writing a file and recording it meanwhile
        recorded: dict[str, set[str]] = defaultdict(set)
        for subscriber, file_name in connection.execute(select(changeset.c.subscriber, changeset.c.file_name)):
            recorded[subscriber].add(file_name)
        last = dict(connection.execute(select(changeset.c.subscriber, func.max(changeset.c.seq)).group_by(changeset.c.subscriber)).all())
        for folder in sorted(path for path in out_dir.iterdir() if path.is_dir()):
            for path in sorted(folder.iterdir()):
                stale_temp = path.name.startswith(".") and path.name.endswith(".tmp")
                numbered = path.suffix == ".avro" and path.name[:8].isdigit()
                unrecorded = numbered and f"{folder.name}/{path.name}" not in recorded[folder.name]
                if stale_temp or (unrecorded and int(path.name[:8]) <= (last.get(folder.name) or 0)):
                    path.unlink()
                    removed += 1
    return removed


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
