"""The linkage input table, loaded from the store (SQLite and PostgreSQL) in batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine

from connectors.human_resources import HumanResourcesConnector
from connectors.statistics import StatisticsConnector
from mmi.index import inputs
from mmi.ingest import ingest_department
from mmi.store import reads
from schemas.errors import LinkageError
from tests.conftest import SAMPLES
from tests.helpers import current_records


def test_current_person_records_load_with_derived_columns(store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SAMPLES / "human_resources", tmp_path / "hr")
    shutil.copytree(SAMPLES / "statistics", tmp_path / "stats")
    ingest_department(store, HumanResourcesConnector(tmp_path / "hr"))
    ingest_department(store, StatisticsConnector(tmp_path / "stats"))
    # Batches of 5: most hold no statistics rows, so their masked-ID columns are all NULL. Types must not follow.
    monkeypatch.setattr(reads, "BATCH_ROWS", 5)
    duck = duckdb.connect()
    count = inputs.load_person_records(store, duck)
    expected = len(current_records(store, "human_resources")) + len(current_records(store, "statistics"))
    assert count == expected == 36
    columns = dict(duck.execute(f"SELECT column_name, column_type FROM (DESCRIBE {inputs.RECORDS})").fetchall())
    assert (columns["birth_date"], columns["id_valid"], columns["masked_id_tail"]) == ("DATE", "BOOLEAN", "VARCHAR")
    [survey] = duck.execute(
        f"SELECT id_region, id_tail, surname, given_name FROM {inputs.RECORDS} WHERE unique_id = 'statistics|2026Q3-0000018'"
    ).fetchall()
    [enrolment] = duck.execute(
        f"SELECT id_region, id_tail, id_region_birth FROM {inputs.RECORDS} WHERE unique_id = 'human_resources|RS000000018'"
    ).fetchall()
    assert survey == ("220113", "0033", "戴", "涛英")
    assert enrolment == ("220113", "0033", "22011319990209")  # the same person's full ID gives the same parts


def test_an_empty_store_says_to_ingest_first(store: Engine) -> None:
    with pytest.raises(LinkageError, match="run `mmi ingest` first"):
        inputs.load_person_records(store, duckdb.connect())


def test_batches_read_by_the_driver_hold_what_sqlalchemy_reads(store: Engine, tmp_path: Path) -> None:
    """The driver's own values (SQLite: text dates and times, integer booleans) come out as the columns' types,
    the same instants and values SQLAlchemy's result processing gives, in every batch, all-NULL ones included."""
    from sqlalchemy import select

    from mmi.store.tables import source_record

    shutil.copytree(SAMPLES / "human_resources", tmp_path / "hr")
    shutil.copytree(SAMPLES / "statistics", tmp_path / "stats")
    ingest_department(store, HumanResourcesConnector(tmp_path / "hr"))
    ingest_department(store, StatisticsConnector(tmp_path / "stats"))
    query = select(source_record).order_by(source_record.c.id)
    with store.connect() as connection:
        expected = [dict(row._mapping) for row in connection.execute(query)]
    batches = list(reads.arrow_batches(store, query, rows=5))
    assert len(batches) == 8 and all(batch.schema == reads.arrow_schema(query) for batch in batches)
    read = [row for batch in batches for row in batch.to_pylist()]
    assert read == expected
    kinds = {type(row[name]) for row in read for name in ("ingested_at", "is_current", "birth_date") if row[name] is not None}
    assert kinds >= {bool, type(expected[0]["ingested_at"]), type(expected[0]["birth_date"])} and expected[0]["ingested_at"].tzinfo
