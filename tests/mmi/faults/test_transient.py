"""Failures that heal: the store's connection lost in the middle of an ingest (PostgreSQL: its backend terminated;
SQLite: the file locked by another process) is a TransientError (exit 1, Airflow retries), and the run after it
completes with nothing lost or stored twice."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

import mmi.ingest
from connectors import Checkpoint
from connectors.human_resources import HumanResourcesConnector
from mmi.config import load_settings
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.faults import describe, store_fault
from mmi.store.tables import ingest_batch
from mmi.tasks import run_ingest
from schemas.errors import StoreError, TransientError
from tests.conftest import POSTGRES_URL
from tests.mmi.faults.conftest import landed, write_config

DEPARTMENT = "human_resources"  # a drop folder: one checkpoint per file, so a run stores in many transactions
COUNTED = ("versions", "keys", "current", "quarantined")


def _fault_after_checkpoints(monkeypatch: pytest.MonkeyPatch, count: int, fault: Callable[[], object]) -> None:
    """Make the connector deliver `count` checkpoints, then run `fault` (once), then go on; store every checkpoint."""
    original = HumanResourcesConnector.deliveries

    def deliveries(self: HumanResourcesConnector, state: Any) -> Iterator[Any]:
        seen = 0
        for delivery in original(self, state):
            yield delivery
            if isinstance(delivery, Checkpoint):
                seen += 1
                if seen == count:
                    fault()

    monkeypatch.setattr(HumanResourcesConnector, "deliveries", deliveries)
    defaults = mmi.ingest.ingest_department.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "flush_rows", 1)


def _clean_counts(feeds: Path, tmp_path: Path) -> dict[str, int]:
    engine = open_store(f"sqlite:///{tmp_path / 'clean.db'}")
    ingest(load_settings(write_config(feeds, str(engine.url), "clean.toml")), engine, only=DEPARTMENT)
    return {key: landed(engine)[key] for key in COUNTED}


def _heals(feeds: Path, tmp_path: Path, engine: Engine, config: Path, monkeypatch: pytest.MonkeyPatch, left: str) -> None:
    """After the failed run: part of the feed stored, the batch `left` failed or running (when the store could not
    even be told); the next run marks it failed if need be and stores the rest, once."""
    monkeypatch.undo()  # no more faults
    clean = _clean_counts(feeds, tmp_path)
    engine.dispose()  # the test's own connections were cut too
    partial = landed(engine)
    assert 0 < partial["versions"] < clean["versions"]
    assert partial.get(f"batches_{left}") == 1 and partial.get("batches_done") is None
    rerun = run_ingest(DEPARTMENT, config)
    assert rerun["new_versions"] > 0
    healed = landed(engine)
    assert {key: healed[key] for key in COUNTED} == clean
    assert healed.get("batches_failed") == healed.get("batches_done") == 1 and "batches_running" not in healed


@pytest.mark.postgres
def test_a_terminated_backend_mid_ingest_is_transient_and_the_rerun_heals(
    feeds: Path, postgres_schema_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"mmi-test-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_schema_url).update_query_dict({"application_name": tag}).render_as_string(hide_password=False)
    engine = open_store(url)
    config = write_config(feeds, url)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    terminated: list[int] = []

    def terminate() -> None:
        # The pids first, then each terminated on its own: in one query PostgreSQL may call pg_terminate_backend
        # before it filters, on every backend of the server.
        with admin.connect() as connection:
            pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :tag"), {"tag": tag}).scalars().all()
            for pid in pids:
                if connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one():
                    terminated.append(pid)

    _fault_after_checkpoints(monkeypatch, 5, terminate)
    with pytest.raises(TransientError, match="may pass"):
        run_ingest(DEPARTMENT, config)  # what the DAG's task runs: TransientError is what its retry policy retries
    assert terminated, "no backend of the store was terminated: the fault was not injected"
    _heals(feeds, tmp_path, engine, config, monkeypatch, left="failed")
    admin.dispose()


def test_a_locked_sqlite_store_mid_ingest_is_transient_and_the_rerun_heals(
    feeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store" / "mmi.db"
    engine = open_store(f"sqlite:///{path}")
    engine.dispose()
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=300"))  # not 30 s
    config = write_config(feeds, str(engine.url), stale_after_seconds=0)
    other = sqlite3.connect(path, isolation_level=None)  # another process's long write transaction, as it were
    _fault_after_checkpoints(monkeypatch, 5, lambda: other.execute("BEGIN EXCLUSIVE"))

    [report] = ingest(load_settings(config), engine, only=DEPARTMENT)
    assert report.transient and report.error and "database is locked" in report.error
    other.execute("ROLLBACK")
    other.close()
    # The store was still locked when the batch failed, so it could not be marked: its stopped heartbeat is found.
    _heals(feeds, tmp_path, engine, config, monkeypatch, left="running")


def test_a_constraint_violation_is_terminal_and_said_without_its_values(store: Engine) -> None:
    secret_values = {"department": "statistics-41010219900101123X", "started_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    with store.begin() as connection:
        connection.execute(
            insert(ingest_batch).values(id=7, department="statistics", started_at=secret_values["started_at"], status="done")
        )
    with pytest.raises(IntegrityError) as raised, store.begin() as connection:
        connection.execute(
            insert(ingest_batch).values(id=7, department=secret_values["department"], started_at=secret_values["started_at"], status="x")
        )
    fault = store_fault(raised.value)
    assert isinstance(fault, StoreError) and not isinstance(fault, TransientError)
    assert "41010219900101123X" not in describe(raised.value)
    assert "41010219900101123X" not in str(raised.value)  # hide_parameters: not even SQLAlchemy's own message


def test_what_counts_as_transient() -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert isinstance(store_fault(locked), TransientError)
    assert isinstance(store_fault(sqlite3.IntegrityError("UNIQUE constraint failed: t.a")), StoreError)
    assert not isinstance(store_fault(sqlite3.IntegrityError("UNIQUE constraint failed: t.a")), TransientError)
    assert store_fault(ValueError("a bug")) is None
    assert describe(ValueError("a bug")) == "ValueError: a bug"
