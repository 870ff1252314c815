"""Airflow for the DAG tests: one temporary AIRFLOW_HOME per test session, its SQLite metadata database migrated
once and the DAG folder serialized into it; DAGs run with the real `airflow dags test` in a subprocess.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from connectors.registry import DEPARTMENTS
from devtools import DAGS
from mmi.airflow_local import LocalAirflow
from tests.conftest import POSTGRES_URL, skip_without_postgres

ROOT = Path(__file__).resolve().parents[2]
INGEST_DAGS = {department: f"ingest_{department}" for department in DEPARTMENTS}
ALL_DAGS = {*INGEST_DAGS.values(), "link_master_index", "publish_change_sets", "compute_indicators"}


@dataclass(frozen=True)
class Airflow(LocalAirflow):
    """The library's local Airflow (mmi.airflow_local), plus reads of the metadata database for the tests."""

    def query(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Read the metadata database (the tests may; the DAGs' tasks never do)."""
        engine = create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), parameters)]
        finally:
            engine.dispose()

    def last_task_states(self, dag_id: str) -> list[str]:
        return [
            state
            for (state,) in self.query(
                "SELECT ti.state FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id "
                "WHERE ti.dag_id = :dag AND r.id = (SELECT max(id) FROM dag_run WHERE dag_id = :dag)",
                dag=dag_id,
            )
        ]

    def asset_events(self, asset_name: str) -> list[str]:
        """The `extra` of every event of the Asset, as JSON text, oldest first."""
        return [
            extra if isinstance(extra, str) else json.dumps(extra)
            for (extra,) in self.query(
                "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = :name ORDER BY e.id", name=asset_name
            )
        ]


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    """A migrated SQLite metadata database with the project's DAGs serialized into it, shared by the session."""
    prepared = LocalAirflow.prepared(tmp_path_factory.mktemp("airflow-home"), DAGS)
    return Airflow(prepared.home, prepared.env)


@pytest.fixture
def metadata_database(postgres_problem: str | None) -> Iterator[URL]:
    """A fresh, empty database on the test server, dropped afterwards (Airflow's migrations want a database)."""
    skip_without_postgres(postgres_problem)
    name = f"airflow_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
