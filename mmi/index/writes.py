"""Writing a run's changes to the store: all of them, with their events and the run's counts, in one transaction.

Either the index, its history and the outbox all move to the run's result, or none of them does: the exchange
never publishes an event whose change was not stored, and no stored change lacks its event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
from sqlalchemy import Connection, Engine, and_, bindparam, delete, update

from mmi.index.events import XREF_CHANGES, IndexChanges
from mmi.store.batches import bulk_insert
from mmi.store.index_tables import link_constraint, linkage_run, master_event, master_record, master_xref, match_pair

CHUNK = 20_000


def write_changes(engine: Engine, duck: duckdb.DuckDBPyConnection, run: dict[str, Any], changes: IndexChanges, now: dt.datetime) -> None:
    """Store `changes` (and the workspace's staged xref and pair changes) as run `run["id"]`'s result."""
    run_id, model_version_id = run["id"], run["model_version_id"]
    with engine.begin() as connection:
        _write_masters(connection, run_id, changes)
        _write_xref(connection, duck, run_id)
        _write_pairs(connection, duck, run_id, model_version_id)
        if changes.events:
            bulk_insert(connection, master_event, [{**event, "run_id": run_id, "model_version_id": model_version_id, "occurred_at": now}
                                                   for event in changes.events])
        connection.execute(update(link_constraint).where(link_constraint.c.applied_run_id.is_(None)).values(applied_run_id=run_id))
        counts = {key: run[key] for key in ("records_changed", "records_reclustered", "pairs_scored")}
        connection.execute(update(linkage_run).where(linkage_run.c.id == run_id).values(
            status="done", finished_at=dt.datetime.now(dt.UTC), events=len(changes.events), **counts))


def _write_masters(connection: Connection, run_id: int, changes: IndexChanges) -> None:
    if changes.new_masters:
        rows = [{**row, "status": "active", "created_run_id": run_id, "updated_run_id": run_id} for row in changes.new_masters]
        for chunk in _chunks(rows):
            bulk_insert(connection, master_record, chunk)
    if changes.changed_masters:
        statement = update(master_record).where(master_record.c.master_id == bindparam("key"))
        rows = [{**{name: value for name, value in row.items() if name != "master_id"}, "key": row["master_id"], "updated_run_id": run_id}
                for row in changes.changed_masters]
        for chunk in _chunks(rows):
            connection.execute(statement, chunk)
    for master, successor in changes.retired.items():
        connection.execute(update(master_record).where(master_record.c.master_id == master).values(
            status="retired", successor_id=successor, record_count=0, updated_run_id=run_id))


def _write_xref(connection: Connection, duck: duckdb.DuckDBPyConnection, run_id: int) -> None:
    rows = duck.execute(f"SELECT department, source_key, version, record_id, master_id, was_linked FROM {XREF_CHANGES}").fetchall()
    relinked = [{"d": department, "k": key} for department, key, *_rest, was_linked in rows if was_linked]
    statement = delete(master_xref).where(and_(master_xref.c.department == bindparam("d"), master_xref.c.source_key == bindparam("k")))
    for chunk in _chunks(relinked):
        connection.execute(statement, chunk)
    keys = ("department", "source_key", "version", "source_record_id", "master_id")
    for chunk in _chunks([{**dict(zip(keys, row[:5], strict=True)), "run_id": run_id} for row in rows]):
        bulk_insert(connection, master_xref, chunk)


def _write_pairs(connection: Connection, duck: duckdb.DuckDBPyConnection, run_id: int, model_version_id: int) -> None:
    removed = duck.execute("SELECT left_key, right_key FROM pairs_removed").fetchall()
    statement = delete(match_pair).where(and_(match_pair.c.left_key == bindparam("left"), match_pair.c.right_key == bindparam("right")))
    for chunk in _chunks([{"left": left, "right": right} for left, right in removed]):
        connection.execute(statement, chunk)
    added = duck.execute("SELECT left_key, right_key, match_probability, match_weight FROM pairs_added").fetchall()
    keys = ("left_key", "right_key", "match_probability", "match_weight")
    rows = [{**dict(zip(keys, row, strict=True)), "model_version_id": model_version_id, "run_id": run_id} for row in added]
    for chunk in _chunks(rows):
        bulk_insert(connection, match_pair, chunk)


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]
