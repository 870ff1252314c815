"""The records behind an item, as the department wrote them and as standardisation read them.

A steward compares the two side by side (陳 beside 陈, a 15-digit ID beside its 18-digit upgrade): the raw
payload is the row exactly as delivered; the fields are the canonical record linkage compares. `differing`
names the canonical fields whose known values disagree between the item's records. The hash of the compared
values is what a decision keeps, so anyone can tell later whether a decision was made on the values shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from linkage.inputs import LINKAGE_COLUMNS
from mmi.review.models import RecordView
from mmi.store.index_tables import master_xref
from mmi.store.tables import source_record

CANONICAL_FIELDS = (
    "name",
    "name_pinyin",
    "id_number",
    "id_valid",
    "masked_id_region",
    "masked_id_tail",
    "guardian_id_number",
    "birth_date",
    "birth_year_month",
    "sex",
    "ethnicity",
    "phone",
    "phone_tail",
    "hukou_region",
    "hukou_address",
    "current_district",
    "current_address",
    "residence_start",
    "permit_number",
    "registration_cancelled",
    "employer",
    "insurance_type",
    "insurance_status",
    "health_record_no",
    "health_record_date",
    "arrival_year",
    "household_size",
    "survey_wave",
)


def _named(keys: Sequence[str]) -> Any:
    return or_(
        *(and_(source_record.c.department == key.partition("|")[0], source_record.c.source_key == key.partition("|")[2]) for key in keys)
    )


def record_views(connection: Connection, keys: Sequence[str]) -> list[RecordView]:
    """The current version of each record, in the order given (a withdrawn record is left out)."""
    if not keys:
        return []
    columns = [source_record.c[name] for name in ("department", "source_key", "version", "payload", "quality_flags", *CANONICAL_FIELDS)]
    rows = {
        f"{row.department}|{row.source_key}": row._asdict()
        for row in connection.execute(select(*columns).where(source_record.c.is_current.is_(True), _named(keys)))
    }
    masters = {
        f"{d}|{k}": m
        for d, k, m in connection.execute(
            select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id).where(
                or_(
                    *(
                        and_(master_xref.c.department == key.partition("|")[0], master_xref.c.source_key == key.partition("|")[2])
                        for key in keys
                    )
                )
            )
        )
    }
    views = [_view(key, rows[key], masters.get(key)) for key in keys if key in rows]
    differing = differing_fields([view.fields for view in views])
    for view in views:
        view.differing = differing
    return views


def _view(key: str, row: dict[str, Any], master: str | None) -> RecordView:
    return RecordView(
        key=key,
        department=row["department"],
        source_key=row["source_key"],
        version=row["version"],
        master_id=master,
        fields={name: row[name] for name in CANONICAL_FIELDS},
        raw=json.loads(row["payload"]),
        quality_flags=json.loads(row["quality_flags"]),
    )


def differing_fields(records: list[dict[str, Any]]) -> list[str]:
    """Canonical fields with more than one known value among the records."""
    return [name for name in CANONICAL_FIELDS if len({record.get(name) for record in records} - {None}) > 1]


def compared_values_sha256(views: list[RecordView]) -> str:
    """SHA-256 of the values linkage compares, per record, in key order: what a decision was made on."""
    values = {view.key: {name: _plain(view.fields.get(name)) for name in LINKAGE_COLUMNS} for view in sorted(views, key=lambda v: v.key)}
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
