"""Writing a run's changes to the store: all of them, with their events and the run's counts, in one transaction.

Either the index, its history and the outbox all move to the run's result, or none of them does: the exchange
never publishes an event whose change was not stored, and no stored change lacks its event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import msgspec
from sqlalchemy import Connection, Engine, and_, bindparam, delete, select, update

from mmi.audit.log import append_entries, row_entry
from mmi.failpoints import failpoint
from mmi.index.conflicts import write_conflicts
from mmi.index.events import GOLDEN_CHANGED, XREF_CHANGES, IndexChanges, event_lineage
from mmi.index.golden import GOLDEN_FIELDS
from mmi.store.index_tables import (
    link_constraint,
    linkage_run,
    master_event,
    master_held_record,
    master_record,
    master_xref,
    match_pair,
    model_version,
)
from mmi.store.landing import bulk_insert, insert_rows

CHUNK = 20_000
_decode_list = msgspec.json.Decoder(list[str]).decode


def write_changes(engine: Engine, duck: duckdb.DuckDBPyConnection, run: dict[str, Any], changes: IndexChanges, now: dt.datetime) -> None:
    """Store `changes` (and the workspace's staged xref and pair changes) as run `run["id"]`'s result."""
    run_id, model_version_id = run["id"], run["model_version_id"]
    with engine.begin() as connection:
        _write_masters(connection, duck, run_id, changes)
        _write_xref(connection, duck, run_id)
        _write_pairs(connection, duck, run_id, model_version_id)
        write_conflicts(connection, changes.conflicts, run, changes.conflict_scope)
        logged = _write_events(
            connection, duck, changes.events, {"run_id": run_id, "model_version_id": model_version_id, "occurred_at": now}
        )
        connection.execute(update(link_constraint).where(link_constraint.c.applied_run_id.is_(None)).values(applied_run_id=run_id))
        counts = {key: run[key] for key in ("records_changed", "records_reclustered", "pairs_scored")}
        connection.execute(
            update(linkage_run)
            .where(linkage_run.c.id == run_id)
            .values(status="done", finished_at=dt.datetime.now(dt.UTC), events=len(changes.events), **counts)
        )
        log_run(connection, run_id, logged)
        failpoint("link_before_commit")


def _write_events(
    connection: Connection, duck: duckdb.DuckDBPyConnection, events: list[dict[str, Any]], run: dict[str, Any]
) -> list[dict[str, Any]]:
    """Store the events, CHUNK at a time with their lineage (mmi.index.events.event_lineage) and the records each
    master gained; returns their audit log entries, which hold a digest of each row rather than the row."""
    entries = []
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        rows = [{**event, **run, "lineage": lineage} for event, lineage in zip(chunk, event_lineage(duck, chunk), strict=True)]
        bulk_insert(connection, master_event, rows)
        if held := gained_records(rows, run["run_id"]):
            insert_rows(connection, master_held_record, ("record_key", "master_id", "run_id"), held)
        entries += [row_entry("master_event", master_event, row) for row in rows]
    return entries


def gained_records(events: list[dict[str, Any]], run_id: int) -> list[tuple[str, str, int]]:
    """The records each event's master gained (records_after less records_before): master_held_record's
    (record_key, master_id, run_id)."""
    rows = []
    for event in events:
        master = event["master_id"]
        gained = set(_decode_list(event["records_after"])).difference(_decode_list(event["records_before"]))
        rows += [(key, master, run_id) for key in sorted(gained)]
    return rows


def log_run(connection: Connection, run_id: int, event_entries: list[dict[str, Any]]) -> None:
    """The run and each of its master events (their entries), as leaves of the tamper-evident log (mmi.audit.log)."""
    run_row = connection.execute(select(linkage_run).where(linkage_run.c.id == run_id)).one()._mapping
    model_sha = connection.execute(select(model_version.c.sha256).where(model_version.c.id == run_row["model_version_id"])).scalar_one()
    append_entries(
        connection,
        [
            row_entry("linkage_run", linkage_run, run_row, model_sha256=model_sha),
            *event_entries,
        ],
    )


def _write_masters(connection: Connection, duck: duckdb.DuckDBPyConnection, run_id: int, changes: IndexChanges) -> None:
    columns = ("master_id", "record_count", "lineage", *GOLDEN_FIELDS)
    selected = f"SELECT {', '.join(columns)} FROM {GOLDEN_CHANGED}"
    created = f"SELECT {', '.join(columns)}, 'active', {int(run_id)}, {int(run_id)} FROM {GOLDEN_CHANGED} WHERE is_new ORDER BY master_id"
    for chunk in _streamed(duck, created):
        insert_rows(connection, master_record, (*columns, "status", "created_run_id", "updated_run_id"), chunk)
    statement = update(master_record).where(master_record.c.master_id == bindparam("key"))
    for chunk in _streamed(duck, f"{selected} WHERE NOT is_new"):
        connection.execute(
            statement, [{**dict(zip(columns[1:], row[1:], strict=True)), "key": row[0], "updated_run_id": run_id} for row in chunk]
        )
    for master, successor in changes.retired.items():
        connection.execute(
            update(master_record)
            .where(master_record.c.master_id == master)
            .values(status="retired", successor_id=successor, record_count=0, updated_run_id=run_id)
        )


def _streamed(duck: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[Any]]:
    """A workspace query's rows in chunks, so that a first run's hundreds of thousands never sit in memory at once.
    Rows to insert come in their table's key order: each goes at the end of the key's B-tree instead of at a random
    page of it, which both stores do several times faster once the tree outgrows their cache."""
    result = duck.execute(sql)
    while rows := result.fetchmany(CHUNK):
        yield rows


def _write_xref(connection: Connection, duck: duckdb.DuckDBPyConnection, run_id: int) -> None:
    statement = delete(master_xref).where(and_(master_xref.c.department == bindparam("d"), master_xref.c.source_key == bindparam("k")))
    for chunk in _streamed(duck, f"SELECT department, source_key FROM {XREF_CHANGES} WHERE was_linked"):
        connection.execute(statement, [{"d": department, "k": key} for department, key in chunk])
    names = ("department", "source_key", "version", "source_record_id", "master_id", "run_id")
    added = (
        f"SELECT department, source_key, version, record_id, master_id, {int(run_id)} FROM {XREF_CHANGES} ORDER BY department, source_key"
    )
    for chunk in _streamed(duck, added):
        insert_rows(connection, master_xref, names, chunk)


def _write_pairs(connection: Connection, duck: duckdb.DuckDBPyConnection, run_id: int, model_version_id: int) -> None:
    statement = delete(match_pair).where(and_(match_pair.c.left_key == bindparam("left"), match_pair.c.right_key == bindparam("right")))
    for chunk in _streamed(duck, "SELECT left_key, right_key FROM pairs_removed"):
        connection.execute(statement, [{"left": left, "right": right} for left, right in chunk])
    names = ("left_key", "right_key", "match_probability", "match_weight", "model_version_id", "run_id")
    added = f"SELECT left_key, right_key, match_probability, match_weight, {int(model_version_id)}, {int(run_id)} FROM pairs_added ORDER BY left_key, right_key"
    for chunk in _streamed(duck, added):
        insert_rows(connection, match_pair, names, chunk)
