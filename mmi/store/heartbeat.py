"""Heartbeats of running steps: a batch or run whose process died is found by the next run and marked failed.

A running row (`ingest_batch`, `linkage_run`) names its host and pid and carries `heartbeat_at`, which a small
thread moves forward every `[store] heartbeat_seconds` while the step runs. The next run of the same step, holding
the step's lock (so no live process is running it), marks every `running` row whose heartbeat is older than
`[store] stale_after_seconds` as failed, saying when and where its heartbeat stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, select, update

from mmi.store.faults import describe

log = logging.getLogger(__name__)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def running_columns() -> dict[str, Any]:
    """The columns a new running row starts with: who runs it, and its first heartbeat."""
    return {"host": socket.gethostname()[:255], "pid": os.getpid(), "heartbeat_at": now()}


class Heartbeat:
    """Moves `heartbeat_at` of one row forward every `seconds`, on a connection of its own, until stopped."""

    def __init__(self, engine: Engine, table: Table, row_id: int, seconds: float) -> None:
        self.engine, self.table, self.row_id, self.seconds = engine, table, row_id, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {table.name} {row_id}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(self.table).where(self.table.c.id == self.row_id).values(heartbeat_at=now()))
            except Exception as error:  # noqa: BLE001 - a missed beat is not the step's failure; the step sees its own
                log.warning("%s %s: heartbeat not recorded: %s", self.table.name, self.row_id, describe(error))


def fail_dead_runs(engine: Engine, table: Table, stale_after_seconds: float, *, where: ColumnElement[bool] | None = None) -> list[int]:
    """Mark failed each `running` row of `table` (matching `where`) whose heartbeat stopped; their ids.

    Call it holding the step's lock: then no live process runs any of these rows."""
    cutoff = now() - dt.timedelta(seconds=stale_after_seconds)
    beat = table.c.heartbeat_at
    query = select(table.c.id, table.c.started_at, beat, table.c.host, table.c.pid).where(table.c.status == "running")
    if where is not None:
        query = query.where(where)
    failed = []
    with engine.begin() as connection:
        for row in connection.execute(query).all():
            last = row.heartbeat_at or row.started_at
            if last >= cutoff:
                continue
            where_it_ran = f"{row.host}/{row.pid}" if row.host else "an unknown host and pid (a run from before heartbeats)"
            reason = f"process died: heartbeat stopped at {last.isoformat(timespec='seconds')} on {where_it_ran}"
            connection.execute(
                update(table)
                .where(table.c.id == row.id, table.c.status == "running")
                .values(status="failed", finished_at=now(), error=reason)
            )
            log.warning("%s %s: %s", table.name, row.id, reason)
            failed.append(row.id)
    return failed
