"""Bulk writes (mmi.store.landing): rows as dicts, converted as SQLAlchemy would convert them, or as tuples handed
to the driver as they are; both read back as SQLAlchemy's own inserts would, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert, select

from mmi.store.heartbeat import running_columns
from mmi.store.index_tables import linkage_run, master_held_record, model_version
from mmi.store.landing import bulk_insert, insert_rows
from mmi.store.tables import ingest_batch, source_record

BEIJING = dt.timezone(dt.timedelta(hours=8))
JAN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_dict_rows_are_converted_as_sqlalchemy_converts_them(store: Engine) -> None:
    with store.begin() as connection:
        batch = connection.execute(
            insert(ingest_batch).values(
                department="health", started_at=JAN, status="done", delivered=0, new_versions=0, unchanged=0, quarantined=0
            )
        ).inserted_primary_key[0]
        base = {
            "department": "health",
            "version": 1,
            "batch_id": batch,
            "location": "page 1",
            "payload_sha256": "0" * 64,
            "payload": "{}",
            "quality_flags": "[]",
        }
        bulk_insert(
            connection,
            source_record,
            [
                base
                | {
                    "source_key": "A",
                    "is_current": True,
                    "ingested_at": dt.datetime(2026, 3, 1, 8, tzinfo=BEIJING),
                    "birth_date": dt.date(1990, 1, 2),
                },
                base
                | {
                    "source_key": "B",
                    "is_current": False,
                    "ingested_at": dt.datetime(2026, 3, 1, 0, 0, 0, 5, tzinfo=dt.UTC),
                    "birth_date": None,
                },
            ],
        )
    columns = (source_record.c.source_key, source_record.c.is_current, source_record.c.ingested_at, source_record.c.birth_date)
    with store.connect() as connection:
        stored = [tuple(row) for row in connection.execute(select(*columns).order_by(source_record.c.source_key))]
    assert stored == [
        ("A", True, dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC), dt.date(1990, 1, 2)),  # 08:00 in Beijing, stored as UTC
        ("B", False, dt.datetime(2026, 3, 1, 0, 0, 0, 5, tzinfo=dt.UTC), None),
    ]


def test_tuples_go_to_the_driver_as_they_are(store: Engine) -> None:
    with store.begin() as connection:
        model = connection.execute(
            insert(model_version).values(
                sha256="s", settings="{}", term_frequencies="{}", trained_at=JAN, trained_by="t", trained_on="{}", is_current=True
            )
        ).inserted_primary_key[0]
        run = connection.execute(
            insert(linkage_run).values(
                model_version_id=model,
                mode="full",
                status="done",
                started_at=JAN,
                match_threshold=0.9,
                review_threshold=0.5,
                **running_columns(),
            )
        ).inserted_primary_key[0]
        insert_rows(
            connection, master_held_record, ("record_key", "master_id", "run_id"), [("health|A", "M1", run), ('health|卫"2', "M2", run)]
        )
    with store.connect() as connection:
        stored = [
            tuple(row)
            for row in connection.execute(
                select(master_held_record.c.record_key, master_held_record.c.master_id, master_held_record.c.run_id).order_by(
                    master_held_record.c.id
                )
            )
        ]
    assert stored == [("health|A", "M1", run), ('health|卫"2', "M2", run)]


def test_tuples_for_a_column_the_driver_cannot_take_as_it_is_are_refused(store: Engine) -> None:
    """A time must become naive UTC first on either store (COPY would drop an offset, SQLite keep it)."""
    with store.begin() as connection, pytest.raises(ValueError, match=r"column\(s\) trained_at need converting"):
        insert_rows(connection, model_version, ("sha256", "trained_at", "is_current"), [])
    with store.begin() as connection:
        insert_rows(connection, model_version, ("sha256", "is_current"), [])  # nothing to convert: accepted (and nothing to insert)
