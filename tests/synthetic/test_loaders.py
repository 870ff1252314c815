"""Loading public security's table into another database: SQLite, and PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from synthetic import load_public_security, load_sample_sql


def _scalar(url: str, query: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def test_load_into_sqlite(feeds: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, counts = feeds
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    rows = counts["public_security"]["rows"]
    assert load_public_security(out / "public_security" / "ga_jzdj.sqlite", url) == rows
    assert load_public_security(out / "public_security" / "ga_jzdj.sqlite", url) == rows
    assert _scalar(url, "SELECT count(*) FROM ga_jzdj") == rows  # dropped and recreated, not appended


def test_load_the_sample_into_sqlite(samples: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    load_sample_sql(samples / "public_security_ga_jzdj.sql", url)
    assert _scalar(url, "SELECT count(*) FROM ga_jzdj") == 57
    load_sample_sql(samples / "public_security_ga_jzdj.sql", url, table="jzdj_copy")
    assert _scalar(url, "SELECT count(*) FROM jzdj_copy") == 57


@pytest.mark.postgres
def test_load_into_postgres(feeds: tuple[Path, dict[str, Any]], postgres_schema_url: str) -> None:
    out, counts = feeds
    rows = load_public_security(out / "public_security" / "ga_jzdj.sqlite", postgres_schema_url)
    assert rows == _scalar(postgres_schema_url, "SELECT count(*) FROM ga_jzdj") == counts["public_security"]["rows"]
    assert _scalar(postgres_schema_url, "SELECT count(*) FROM ga_jzdj WHERE gxsj IS NULL") >= 1
    assert _scalar(postgres_schema_url, "SELECT max(gxsj) FROM ga_jzdj").year == 2026  # a real TIMESTAMP


@pytest.mark.postgres
def test_load_the_sample_into_postgres(samples: Path, postgres_schema_url: str) -> None:
    load_sample_sql(samples / "public_security_ga_jzdj.sql", postgres_schema_url)
    assert _scalar(postgres_schema_url, "SELECT count(*) FROM ga_jzdj") == 57
