"""Airflow for the DAG tests: one temporary AIRFLOW_HOME per test session, its SQLite metadata database migrated
once and the DAG folder serialized into it; DAGs run with the real `airflow dags test` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
AIRFLOW = Path(sys.executable).with_name("airflow")
INGEST_DAGS = {department: f"ingest_{department}" for department in ("public_security", "human_resources", "statistics", "health")}
ALL_DAGS = {*INGEST_DAGS.values(), "link_master_index", "publish_change_sets"}


def airflow_env(home: Path, dags: Path = DAGS) -> dict[str, str]:
    """This process's environment without any Airflow or mmi setting of its own, pointed at `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "MMI_"))}
    return env | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


@dataclass(frozen=True)
class Airflow:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        command = [str(AIRFLOW), *args]
        done = subprocess.run(command, env=self.env | dict(env or {}), cwd=self.home, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{_tail(done)}"
        return done

    def dags_test(self, dag_id: str, env: Mapping[str, str], conf: str | None = None) -> subprocess.CompletedProcess[str]:
        """`airflow dags test DAG_ID` (one DAG run, every task in this process); fails the test if the run failed."""
        return self.run("dags", "test", dag_id, *(["--conf", conf] if conf else []), env=env)

    def query(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Read the metadata database (the tests may; the DAGs' tasks never do)."""
        engine = create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), parameters)]
        finally:
            engine.dispose()

    def last_task_states(self, dag_id: str) -> list[str]:
        return [state for (state,) in self.query(
            "SELECT ti.state FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id "
            "WHERE ti.dag_id = :dag AND r.id = (SELECT max(id) FROM dag_run WHERE dag_id = :dag)", dag=dag_id)]

    def asset_events(self, asset_name: str) -> list[str]:
        """The `extra` of every event of the Asset, as JSON text, oldest first."""
        return [extra if isinstance(extra, str) else json.dumps(extra) for (extra,) in self.query(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = :name ORDER BY e.id", name=asset_name)]


def _tail(done: subprocess.CompletedProcess[str], lines: int = 60) -> str:
    return "\n".join((done.stdout + done.stderr).splitlines()[-lines:])


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    """A migrated SQLite metadata database with the project's DAGs serialized into it, shared by the session."""
    home = tmp_path_factory.mktemp("airflow-home")
    instance = Airflow(home, airflow_env(home))
    instance.run("db", "migrate")
    instance.run("dags", "reserialize")
    return instance
