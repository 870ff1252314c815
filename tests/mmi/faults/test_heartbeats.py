"""Heartbeats: a running batch or run whose process died is found by the next run of its step and marked failed."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import Engine, insert, select

from mmi.config import load_settings
from mmi.ingest import ingest
from mmi.store.heartbeat import Heartbeat
from mmi.store.tables import ingest_batch
from tests.mmi.faults.conftest import write_config


def _running(engine: Engine, department: str, heartbeat: dt.datetime | None, host: str | None, pid: int | None) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(ingest_batch)
                .values(
                    department=department,
                    started_at=heartbeat or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                    status="running",
                    delivered=0,
                    new_versions=0,
                    unchanged=0,
                    quarantined=0,
                    host=host,
                    pid=pid,
                    heartbeat_at=heartbeat,
                )
                .returning(ingest_batch.c.id)
            ).scalar_one()
        )


def _batch(engine: Engine, batch_id: int) -> dict[str, object]:
    with engine.connect() as connection:
        return dict(connection.execute(select(ingest_batch).where(ingest_batch.c.id == batch_id)).one()._mapping)


def test_the_heartbeat_moves_while_the_step_runs_and_stops_with_it(store: Engine) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    batch_id = _running(store, "statistics", start, "here", 1)
    with Heartbeat(store, ingest_batch, batch_id, 0.05):
        deadline = time.monotonic() + 20
        while _batch(store, batch_id)["heartbeat_at"] == start and time.monotonic() < deadline:
            time.sleep(0.05)
    beat = _batch(store, batch_id)["heartbeat_at"]
    assert isinstance(beat, dt.datetime) and beat > start
    time.sleep(0.2)
    assert _batch(store, batch_id)["heartbeat_at"] == beat  # stopped with the step


def test_a_batch_whose_heartbeat_stopped_is_marked_failed_by_the_next_ingest(feeds: Path, store: Engine, store_url: str) -> None:
    settings = load_settings(write_config(feeds, store_url, stale_after_seconds=60))
    stopped = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)
    dead = _running(store, "statistics", stopped, "worker-7", 4242)
    before_heartbeats = _running(store, "statistics", None, None, None)  # a row from before heartbeats existed
    alive = _running(store, "statistics", dt.datetime.now(dt.UTC), "worker-8", 99)  # beat just now: not declared dead
    other = _running(store, "human_resources", stopped, "worker-7", 4243)  # another department's step: not this run's to judge

    [report] = ingest(settings, store, only="statistics")
    assert report.error is None and report.new_versions > 0

    marked = _batch(store, dead)
    assert marked["status"] == "failed" and marked["finished_at"] is not None
    assert marked["error"] == f"process died: heartbeat stopped at {stopped.isoformat()} on worker-7/4242"
    assert _batch(store, before_heartbeats)["status"] == "failed"
    assert "unknown host and pid" in str(_batch(store, before_heartbeats)["error"])
    assert _batch(store, alive)["status"] == "running"
    assert _batch(store, other)["status"] == "running"
    new = _batch(store, report.batch_id or 0)
    assert new["status"] == "done" and new["host"] and new["pid"] and new["heartbeat_at"] is not None
