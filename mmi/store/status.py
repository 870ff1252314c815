"""A summary of what the store holds, per department: for `mmi status` and for operators' first look."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from mmi.store.tables import ingest_batch, quarantine, service_event, source_record


def store_status(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:

        def per_department(query: Any) -> dict[str, int]:
            return {department: count for department, count in connection.execute(query)}

        current = source_record.c.is_current.is_(True)
        return {
            "source_records": per_department(
                select(source_record.c.department, func.count()).where(current).group_by(source_record.c.department)
            ),
            "versions": per_department(select(source_record.c.department, func.count()).group_by(source_record.c.department)),
            "service_events": per_department(
                select(service_event.c.department, func.count())
                .where(service_event.c.is_current.is_(True))
                .group_by(service_event.c.department)
            ),
            "quarantined": per_department(select(quarantine.c.department, func.count()).group_by(quarantine.c.department)),
            "batches": [
                dict(row._mapping) for row in connection.execute(select(ingest_batch).order_by(ingest_batch.c.id.desc()).limit(20))
            ],
        }
