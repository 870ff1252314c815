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
from schemas.errors import LinkageError
from tests.conftest import SAMPLES
from tests.helpers import current_records


def test_current_person_records_load_with_derived_columns(store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SAMPLES / "human_resources", tmp_path / "hr")
    shutil.copytree(SAMPLES / "statistics", tmp_path / "stats")
    ingest_department(store, HumanResourcesConnector(tmp_path / "hr"))
    ingest_department(store, StatisticsConnector(tmp_path / "stats"))
    # Batches of 5: most hold no statistics rows, so their masked-ID columns are all NULL. Types must not follow.
    monkeypatch.setattr(inputs, "BATCH_ROWS", 5)
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
