"""Writing outbox rows the way linkage does (model version, linkage run, master_event), for exchange tests."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert

from mmi.config import Settings, settings_from_dict
from mmi.store.index_tables import linkage_run, master_event, model_version
from schemas.changeset import shareable_fields
from schemas.lineage import compact_lineage

FIELDS = shareable_fields()
SUBSCRIBERS = {
    "zhengzhou-health": {
        "department": "health",
        "jurisdiction": ["4101"],
        "fields": ["name", "id_number", "birth_date", "sex", "current_district", "residence_start"],
    },
    "guangdong-police": {
        "department": "public_security",
        "jurisdiction": ["44"],
        "fields": ["name", "id_number", "current_district", "current_address", "permit_number", "phone"],
    },
}


def golden(**changes: Any) -> dict[str, Any]:
    """A golden record as linkage writes it (dates as ISO strings), living in Zhengzhou unless changed."""
    record = {
        "name": "张伟",
        "name_pinyin": "zhang wei",
        "id_number": "410105199003071234",
        "birth_date": "1990-03-07",
        "sex": "1",
        "ethnicity": "01",
        "phone": "13800001111",
        "hukou_region": "511025",
        "current_district": "410105",
        "current_address": "金水区人民路1号",
        "residence_start": "2024-05-01",
        "permit_number": "P4101001",
        "employer": "郑州宏远建工有限公司",
        "insurance_status": "paid",
        "health_record_no": "HR0001",
    }
    return record | changes


def exchange_config(tmp_path: Path, store_url: str, subscribers: dict[str, Any] | None = None, **exchange: Any) -> Settings:
    raw = {
        "store": {"url": store_url},
        "exchange": {"out_dir": "changesets", **exchange},
        "subscribers": SUBSCRIBERS if subscribers is None else subscribers,
    }
    return settings_from_dict(raw, tmp_path / "mmi.toml")


class Outbox:
    """A model version and a linkage run, and events added under them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
        with engine.begin() as connection:
            self.model_version_id = connection.execute(
                insert(model_version).values(
                    sha256=uuid.uuid4().hex,
                    settings="{}",
                    term_frequencies="{}",
                    trained_at=now,
                    trained_by="test",
                    trained_on="{}",
                    is_current=True,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self.run_id = connection.execute(
                insert(linkage_run).values(
                    model_version_id=self.model_version_id,
                    mode="full",
                    status="done",
                    started_at=now,
                    finished_at=now,
                    match_threshold=0.9,
                    review_threshold=0.5,
                )
            ).inserted_primary_key[0]  # type: ignore[index]

    def add(
        self,
        operation: str,
        master_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        records_before: list[str] | None = None,
        records_after: list[str] | None = None,
        related: list[str] | None = None,
        lineage: dict[str, Any] | str | None = None,
        seq: int | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """Add one event (in its own transaction unless `connection` is given); the row as stored."""
        row = {
            "event_id": str(uuid.uuid4()),
            "run_id": self.run_id,
            "model_version_id": self.model_version_id,
            "operation": operation,
            "master_id": master_id,
            "related": json.dumps(related or []),
            "records_before": json.dumps(records_before or []),
            "records_after": json.dumps(records_after or []),
            "golden_before": json.dumps(before, ensure_ascii=False) if before else None,
            "golden_after": json.dumps(after, ensure_ascii=False) if after else None,
            "changed_fields": json.dumps([f for f in FIELDS if (before or {}).get(f) != (after or {}).get(f)]),
            "lineage": _lineage(after or {}, master_id)
            if lineage is None
            else lineage
            if isinstance(lineage, str)
            else json.dumps(lineage, ensure_ascii=False),
            "occurred_at": dt.datetime.now(dt.UTC),
        } | ({"seq": seq} if seq is not None else {})
        if connection is None:
            with self.engine.begin() as own:
                row["seq"] = own.execute(insert(master_event).values(row)).inserted_primary_key[0]  # type: ignore[index]
        else:
            row["seq"] = connection.execute(insert(master_event).values(row)).inserted_primary_key[0]  # type: ignore[index]
        return row


def _lineage(after: dict[str, Any], master_id: str) -> str:
    """As linkage writes it (schemas.lineage, format 2): every valued field from one public-security record."""
    return compact_lineage({name: None if value is None else ("public_security", f"GA-{master_id}", 1, 7) for name, value in after.items()})
