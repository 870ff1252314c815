"""A source record version as it was delivered and as standardisation read it.

The raw payload is the row exactly as landing stored it (UTF-8 JSON text of the department's row), given as
base64 with the checksum recorded at ingest, so an auditor recomputes the SHA-256 over the very bytes. Where it
came from is what the landing tables keep: the location in the feed (table and cursor, file and line, API page),
the batch, and the drop files that batch took.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Connection, Table, select

from mmi.audit.log import plain
from mmi.principal import Principal
from mmi.provenance.errors import NotFound
from mmi.provenance.lookup import json_list
from mmi.provenance.models import IngestBatchView, RecordVersionView
from mmi.store.index_tables import master_xref
from mmi.store.tables import VERSIONED_TABLES, ingest_batch, ingested_file

# The columns every versioned table shares are the provenance (mmi.store.tables); the rest are standardised values.
PROVENANCE_COLUMNS = frozenset(set.intersection(*({column.name for column in table.columns} for table in VERSIONED_TABLES.values())))


def record_version(connection: Connection, principal: Principal, department: str, source_key: str, version: int) -> RecordVersionView:
    table, row = _find(connection, department, source_key, version)
    district = row.get("current_district", row.get("district_code"))
    if not principal.covers(district):
        raise NotFound(f"no record {department}|{source_key} version {version} within your jurisdiction")
    batch = connection.execute(select(ingest_batch).where(ingest_batch.c.id == row["batch_id"])).one()
    files = connection.execute(
        select(ingested_file.c.file_name, ingested_file.c.sha256)
        .where(ingested_file.c.batch_id == row["batch_id"])
        .order_by(ingested_file.c.id)
    ).all()
    master = connection.execute(
        select(master_xref.c.master_id).where(master_xref.c.department == department, master_xref.c.source_key == source_key)
    ).scalar_one_or_none()
    payload: str = row["payload"]
    return RecordVersionView(
        department=department,
        source_key=source_key,
        version=version,
        table=table.name,
        is_current=bool(row["is_current"]),
        payload_base64=base64.b64encode(payload.encode("utf-8")).decode("ascii"),
        payload_sha256=row["payload_sha256"],
        payload_redacted=payload == "",
        location=row["location"],
        batch=IngestBatchView(
            id=batch.id,
            department=batch.department,
            started_at=batch.started_at,
            finished_at=batch.finished_at,
            status=batch.status,
            files=[f"{name} sha256:{sha}" for name, sha in files],
        ),
        ingested_at=row["ingested_at"],
        standardised={name: plain(value) for name, value in row.items() if name not in PROVENANCE_COLUMNS},
        quality_flags=[str(flag) for flag in json_list(row["quality_flags"])],
        master_id=master,
    )


def _find(connection: Connection, department: str, source_key: str, version: int) -> tuple[Table, dict[str, Any]]:
    for table in VERSIONED_TABLES.values():
        query = select(table).where(table.c.department == department, table.c.source_key == source_key, table.c.version == version)
        row = connection.execute(query).one_or_none()
        if row is not None:
            return table, dict(row._mapping)
    raise NotFound(f"no record {department}|{source_key} version {version}")
