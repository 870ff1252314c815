"""Shared fixtures. Every test that touches the store runs on SQLite and on PostgreSQL.

PostgreSQL: each test gets a fresh schema in the `test` database (URL from $MMI_TEST_POSTGRES_URL), dropped
afterwards. Where PostgreSQL is not reachable the PostgreSQL variants are skipped, except under CI (or with
MMI_REQUIRE_POSTGRES=1), where that is a failure: the suite must have run on both.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from mmi.store.database import open_store

POSTGRES_URL = os.environ.get("MMI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"  # the departments' real-shaped extracts (docs/feeds.md)


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means: not reachable
        return f"{type(error).__name__}: {error}"


def _require_postgres() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("MMI_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_reachable()


def skip_without_postgres(postgres_problem: str | None) -> None:
    """Skip a PostgreSQL test where the server is not reachable; under CI (or MMI_REQUIRE_POSTGRES=1), fail it."""
    if postgres_problem:
        if _require_postgres():
            pytest.fail(f"PostgreSQL is required here but not reachable at {POSTGRES_URL}: {postgres_problem}")
        pytest.skip(f"PostgreSQL not reachable: {postgres_problem}")


@pytest.fixture
def postgres_schema_url(postgres_problem: str | None) -> Iterator[str]:
    """A URL whose search_path is a fresh, empty schema of the test database."""
    with fresh_postgres_schema(postgres_problem) as url:
        yield url


@contextlib.contextmanager
def fresh_postgres_schema(postgres_problem: str | None) -> Iterator[str]:
    """The same for fixtures of a wider scope: a fresh schema's URL until the block ends (skipped without PostgreSQL)."""
    skip_without_postgres(postgres_problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'mmi.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for a department's own system (public security), once per backend."""
    if request.param == "sqlite":
        (tmp_path / "source").mkdir(exist_ok=True)
        return f"sqlite:///{tmp_path / 'source' / 'ps.sqlite'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def spark_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark(spark_work_dir: Path) -> Iterator[Any]:
    """The test session's one Spark session on local[2], with Splink's similarity JAR. Skipped where Java is
    missing, except under CI, where the Spark tests are required."""
    from linkage.spark import java_missing, spark_session

    if reason := java_missing():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Spark tests are required under CI: {reason}")
        pytest.skip(reason)
    session = spark_session("local[2]", {}, spark_work_dir)
    yield session
    session.stop()
