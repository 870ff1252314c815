"""Airflow on PostgreSQL as docker-compose.yml configures it: the same drivers in its metadata URLs (psycopg 3,
sync and async), `airflow db migrate`, the DAGs serialized, and a DAG run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import URL

from devtools import DAGS
from mmi.airflow_local import airflow_env
from synthetic import generate_feeds
from tests.dags.conftest import ALL_DAGS, ROOT, Airflow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SETTINGS = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")


def compose_drivers() -> dict[str, str]:
    """The drivers docker-compose.yml names in Airflow's metadata URLs (`postgresql+psycopg`, …)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = compose["services"]["airflow-scheduler"]["environment"]
    return {setting: environment[setting].split("://")[0] for setting in SETTINGS}


def test_airflow_runs_on_postgresql_with_the_compose_files_drivers(metadata_database: URL, tmp_path: Path) -> None:
    drivers = compose_drivers()
    assert set(drivers.values()) == {"postgresql+psycopg", "postgresql+psycopg_async"}  # no asyncpg, no psycopg2
    home = tmp_path / "airflow-home"
    home.mkdir()
    urls = {setting: metadata_database.set(drivername=driver).render_as_string(hide_password=False) for setting, driver in drivers.items()}
    airflow = Airflow(home, airflow_env(home, DAGS) | urls)
    airflow.run("db", "migrate")
    airflow.run("dags", "reserialize")
    assert {dag_id for (dag_id,) in airflow.query("SELECT dag_id FROM serialized_dag")} == ALL_DAGS

    feeds = tmp_path / "feeds"
    generate_feeds(feeds, people=100, seed=17)
    airflow.dags_test("ingest_statistics", env={"MMI_CONFIG": str(feeds / "mmi.toml")})
    assert airflow.last_task_states("ingest_statistics") == ["success"]
    [event] = airflow.asset_events("mmi_source_records_statistics")
    assert json.loads(event)["new_versions"] > 0
