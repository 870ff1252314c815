"""Reading rows through the driver (mmi.store.reads.driver_rows): the values SQLAlchemy reads, for text and numbers;
columns the driver gives otherwise (dates, times, booleans on SQLite) are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert, select

from mmi.store.heartbeat import running_columns
from mmi.store.index_tables import linkage_run, model_version
from mmi.store.reads import BATCH_ROWS, driver_rows

JAN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_driver_rows_hold_what_sqlalchemy_reads(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.begin() as connection:
        model = connection.execute(
            insert(model_version).values(
                sha256="s", settings="{}", term_frequencies="{}", trained_at=JAN, trained_by="t", trained_on="{}", is_current=True
            )
        ).inserted_primary_key[0]
        connection.execute(
            insert(linkage_run),
            [
                {
                    "model_version_id": model,
                    "mode": mode,
                    "status": "done",
                    "started_at": JAN,
                    "match_threshold": 0.999,
                    "review_threshold": 0.5,
                    "error": error,
                    **running_columns(),
                }
                for mode, error in (("full", None), ("incremental", "卫 'quoted'"), ("full", ""))
            ],
        )
    query = (
        select(linkage_run.c.id, linkage_run.c.mode, linkage_run.c.match_threshold, linkage_run.c.error)
        .where(linkage_run.c.mode != "x")
        .order_by(linkage_run.c.id)
    )
    monkeypatch.setattr("mmi.store.reads.BATCH_ROWS", 2)  # batches of two: the last one short
    with store.connect() as connection:
        expected = [tuple(row) for row in connection.execute(query)]
        read = list(driver_rows(connection, query))
    assert read == expected and len(read) == 3 and BATCH_ROWS > 2
    assert read[1].mode == "incremental" and read[1].error == "卫 'quoted'" and read[2].match_threshold == 0.999


def test_driver_rows_refuse_columns_the_driver_gives_as_something_else(store: Engine) -> None:
    with store.connect() as connection, pytest.raises(ValueError, match=r"column\(s\) started_at need converting"):
        list(driver_rows(connection, select(linkage_run.c.id, linkage_run.c.started_at)))
