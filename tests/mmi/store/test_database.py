import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, insert, select

from mmi.store.database import is_current, migrate, open_store, refresh_statistics
from mmi.store.schema import metadata
from mmi.store.tables import ingest_batch


def test_migrations_build_exactly_the_tables_the_code_declares(store: Engine) -> None:
    with store.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert differences == []


def test_migrating_twice_is_harmless(store: Engine) -> None:
    assert is_current(store)
    migrate(store)
    assert is_current(store)


def test_times_are_stored_as_utc_and_read_back_aware(store: Engine) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    started = dt.datetime(2026, 11, 1, 8, 0, tzinfo=beijing)
    with store.begin() as connection:
        batch_id = connection.execute(
            insert(ingest_batch).values(
                department="health", started_at=started, status="done", delivered=0, new_versions=0, unchanged=0, quarantined=0
            )
        ).inserted_primary_key[0]
        stored = connection.execute(select(ingest_batch.c.started_at).where(ingest_batch.c.id == batch_id)).scalar_one()
    assert stored == started and stored.tzinfo is not None and stored.utcoffset() == dt.timedelta(0)


def test_naive_times_are_refused(store: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), store.begin() as connection:
        connection.execute(
            insert(ingest_batch).values(
                department="x", started_at=dt.datetime(2026, 1, 1), status="done", delivered=0, new_versions=0, unchanged=0, quarantined=0
            )
        )


def test_an_unreachable_store_says_where_to_look() -> None:
    from schemas.errors import StoreError

    with pytest.raises(StoreError, match=r"\[store\] url"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_planner_statistics_are_taken_of_the_stores_own_tables(store: Engine) -> None:
    with store.begin() as connection:
        connection.execute(insert(ingest_batch), [_batch(number) for number in range(3)])
    refresh_statistics(store)
    with store.connect() as connection:
        if store.dialect.name == "sqlite":  # a row per index, or per table without one
            analysed = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
            assert "ingest_batch" in analysed  # (an empty table gets no row)
        else:  # the table of this schema (search_path): never analysed is -1 rows
            rows = connection.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'ingest_batch'::regclass").scalar_one()
            assert rows == 3


def test_statistics_that_cannot_be_taken_cost_a_warning_not_the_step(caplog: pytest.LogCaptureFixture) -> None:
    refresh_statistics(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert "planner statistics not refreshed" in caplog.text


def _batch(number: int) -> dict[str, object]:
    started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    return {
        "department": "health",
        "started_at": started,
        "status": "done",
        "delivered": number,
        "new_versions": 0,
        "unchanged": 0,
        "quarantined": 0,
    }
