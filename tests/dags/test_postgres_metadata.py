"""Airflow on PostgreSQL as docker-compose.yml configures it: the same drivers in its metadata URLs (psycopg 3,
sync and async), `airflow db migrate`, the DAGs serialized, and a DAG run end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from devtools import DAGS
from mmi.airflow_local import airflow_env
from synthetic import generate_feeds
from tests.conftest import POSTGRES_URL, skip_without_postgres
from tests.dags.conftest import ALL_DAGS, ROOT, Airflow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SETTINGS = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")


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
