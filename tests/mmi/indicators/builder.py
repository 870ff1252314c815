"""A store holding exactly the people an indicator test describes: source records, services, masters, links.

Rows are written straight into the store's tables (as ingest and linkage would leave them), so a test states its
edge case — a birthday on A, a residence start exactly six months back — and nothing else varies.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, insert

from mmi.store.index_tables import linkage_run, master_record, master_xref, match_pair, model_version
from mmi.store.tables import ingest_batch, service_event, source_record

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass
class StoreBuilder:
    engine: Engine
    _serial: int = 0
    _ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with self.engine.begin() as connection:
            self.batch = connection.execute(
                insert(ingest_batch).values(department="test", started_at=NOW, status="done")
            ).inserted_primary_key[0]
            self.model = connection.execute(
                insert(model_version).values(
                    sha256="0" * 64,
                    settings="{}",
                    term_frequencies="{}",
                    trained_at=NOW,
                    trained_by="test",
                    trained_on="{}",
                    is_current=True,
                )
            ).inserted_primary_key[0]
            self.run = connection.execute(
                insert(linkage_run).values(
                    model_version_id=self.model, mode="full", status="done", started_at=NOW, match_threshold=0.999, review_threshold=0.5
                )
            ).inserted_primary_key[0]

    def record(self, department: str, **values: Any) -> str:
        """A current source record; returns its key 'department|source_key'."""
        self._serial += 1
        key = values.pop("source_key", f"{department[:2].upper()}{self._serial:06d}")
        row = {
            "department": department,
            "source_key": key,
            "version": 1,
            "is_current": True,
            "batch_id": self.batch,
            "location": f"test:{self._serial}",
            "payload_sha256": "0" * 64,
            "payload": "{}",
            "ingested_at": NOW,
            "quality_flags": "[]",
            **values,
        }
        with self.engine.begin() as connection:
            self._ids[f"{department}|{key}"] = connection.execute(insert(source_record).values(**row)).inserted_primary_key[0]
        return f"{department}|{key}"

    def service(self, person: str, service_type: str, day: dt.date, **detail: Any) -> None:
        """A health service event of the health person record `person` ('health|KEY')."""
        self._serial += 1
        with self.engine.begin() as connection:
            connection.execute(
                insert(service_event).values(
                    department="health",
                    source_key=f"EV{self._serial:08d}",
                    version=1,
                    is_current=True,
                    batch_id=self.batch,
                    location=f"test:{self._serial}",
                    payload_sha256="0" * 64,
                    payload="{}",
                    ingested_at=NOW,
                    quality_flags="[]",
                    person_key=person.split("|", 1)[1],
                    service_type=service_type,
                    service_date=day,
                    detail=json.dumps(detail),
                )
            )

    def master(self, master_id: str, records: list[str], **golden: Any) -> str:
        """A master of these records, with these golden fields."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(master_record).values(
                    master_id=master_id,
                    status="active",
                    record_count=len(records),
                    created_run_id=self.run,
                    updated_run_id=self.run,
                    lineage="{}",
                    **golden,
                )
            )
            for key in records:
                department, source_key = key.split("|", 1)
                connection.execute(
                    insert(master_xref).values(
                        department=department,
                        source_key=source_key,
                        version=1,
                        source_record_id=self._ids[key],
                        master_id=master_id,
                        run_id=self.run,
                    )
                )
        return master_id

    def pair(self, left: str, right: str, probability: float) -> None:
        left, right = sorted((left, right))
        with self.engine.begin() as connection:
            connection.execute(
                insert(match_pair).values(
                    left_key=left,
                    right_key=right,
                    match_probability=probability,
                    match_weight=10.0,
                    model_version_id=self.model,
                    run_id=self.run,
                )
            )

    def person(
        self,
        master_id: str,
        *,
        birth: dt.date,
        sex: str = "1",
        district: str | None = "410105",
        start: dt.date | None = dt.date(2020, 1, 1),
        cancelled: bool = False,
        health: bool = False,
        **golden: Any,
    ) -> dict[str, str]:
        """A person with one public-security registration (unless `district` is None) and maybe a health record."""
        keys = {}
        if district is not None:
            keys["ps"] = self.record(
                "public_security",
                current_district=district,
                residence_start=start,
                registration_cancelled=cancelled,
                birth_date=birth,
                sex=sex,
            )
        if health:
            keys["health"] = self.record("health", birth_date=birth, sex=sex, current_district=district)
        self.master(master_id, list(keys.values()), birth_date=birth, sex=sex, **golden)
        return keys
