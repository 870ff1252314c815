"""Small read helpers for tests: what the store holds, in plain Python values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from mmi.store.landing import count_rows
from mmi.store.tables import quarantine, service_event, source_record


def current_records(engine: Engine, department: str, table: Any = source_record) -> dict[str, dict[str, Any]]:
    query = select(table).where(table.c.department == department, table.c.is_current.is_(True))
    with engine.connect() as connection:
        return {row.source_key: dict(row._mapping) for row in connection.execute(query)}


def current_services(engine: Engine, department: str = "health") -> dict[str, dict[str, Any]]:
    return current_records(engine, department, service_event)


def versions(engine: Engine, department: str, key: str) -> list[dict[str, Any]]:
    query = (
        select(source_record)
        .where(source_record.c.department == department, source_record.c.source_key == key)
        .order_by(source_record.c.version)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def quarantined(engine: Engine, department: str) -> list[dict[str, Any]]:
    query = select(quarantine).where(quarantine.c.department == department).order_by(quarantine.c.id)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every row of every table, to check that a run changed nothing at all."""
    from mmi.store.tables import metadata

    with engine.connect() as connection:
        return {
            name: sorted(tuple(str(value) for value in row) for row in connection.execute(select(table)))
            for name, table in metadata.tables.items()
        } | {"counts": count_rows(engine)}
