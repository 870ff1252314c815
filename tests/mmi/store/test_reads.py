"""Reading rows through the driver (mmi.store.reads.driver_rows): the values SQLAlchemy reads, for text and numbers;
columns the driver gives otherwise (dates, times, booleans on SQLite) are refused. Many keys as one parameter
(key_in), on each backend."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, delete, func, insert, select

from mmi.store.heartbeat import running_columns
from mmi.store.index_tables import linkage_run, model_version
from mmi.store.reads import BATCH_ROWS, driver_rows, key_in

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


def test_key_in_finds_exactly_the_keys_given_however_many(store: Engine) -> None:
    """Text keys past SQLite's 32,766 parameters and past what an IN list renders quickly, quotes and non-ASCII
    text, numbers; no keys finds nothing; the same rows where the condition deletes."""
    probe = Table("key_in_probe", MetaData(), Column("key", String(32), primary_key=True), Column("number", Integer, nullable=False))
    probe.create(store)
    keys = [f"卫'{n:06d}" for n in range(40_000)]
    with store.begin() as connection:
        connection.execute(insert(probe), [{"key": key, "number": n} for n, key in enumerate(keys)])
    wanted = set(keys[::3]) | {"not there", "'"}
    with store.connect() as connection:
        assert set(connection.execute(select(probe.c.key).where(key_in(connection, probe.c.key, wanted))).scalars()) == set(keys[::3])
        assert connection.execute(select(probe).where(key_in(connection, probe.c.key, []))).all() == []
        numbers = connection.execute(select(probe.c.key).where(key_in(connection, probe.c.number, [39_999, 0, 7, -5]))).scalars()
        assert sorted(numbers) == [keys[0], keys[7], keys[39_999]]
    with store.begin() as connection:
        assert connection.execute(delete(probe).where(key_in(connection, probe.c.key, keys[:100]))).rowcount == 100
        assert connection.execute(select(func.count()).select_from(probe)).scalar_one() == 39_900
