"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Ingest side:
- `ingest_batch`: one row per department per run that stored anything: when, and what it counted.
- `source_record` / `service_event`: every version of every department row, standardised, with provenance
  (batch, location in the feed, checksum and copy of the raw payload, time ingested). Exactly one version per
  key is current; older versions are kept for audit.
- `quarantine`: what could not be read or used, with the raw bytes and a reason a person can act on.
- `ingest_cursor`: where each incremental stream resumes; `ingested_file`: drop files taken, by checksum.

The schema changes only through Alembic migrations (`mmi/store/migrations`); tests check the two agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no 64-bit autoincrement type of its own; INTEGER PRIMARY KEY is its rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC, read back timezone-aware, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return to_naive_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


def to_naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """How every timestamp is stored: the same instant, in UTC, without a zone. Naive input is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give the store timezone-aware times")
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _provenance_columns() -> list[Column[Any]]:
    """Where a version came from: shared by every versioned table."""
    return [
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("department", String(32), nullable=False),
        Column("source_key", String(64), nullable=False),
        Column("version", Integer, nullable=False),
        Column("is_current", Boolean, nullable=False),
        Column("batch_id", Id, ForeignKey("ingest_batch.id"), nullable=False),
        Column("location", Text, nullable=False),
        Column("payload_sha256", String(64), nullable=False),
        Column("payload", Text, nullable=False),  # the raw row as delivered, JSON
        Column("ingested_at", UTCDateTime, nullable=False),
        Column("quality_flags", Text, nullable=False),  # JSON list
    ]


def running_columns() -> tuple[Column[Any], ...]:
    """Who runs a batch or run, and its last heartbeat (mmi.store.heartbeat)."""
    return (Column("host", String(255)), Column("pid", Integer), Column("heartbeat_at", UTCDateTime))


ingest_batch = Table(
    "ingest_batch",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("department", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False),  # running, done, failed
    Column("delivered", Integer, nullable=False, default=0),
    Column("new_versions", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("error", Text),
    *running_columns(),
)

source_record = Table(
    "source_record",
    metadata,
    *_provenance_columns(),
    Column("name", String(64)),
    Column("name_pinyin", String(160)),
    Column("id_number", String(18)),
    Column("id_valid", Boolean),
    Column("masked_id_region", String(6)),
    Column("masked_id_tail", String(4)),
    Column("guardian_id_number", String(18)),
    Column("birth_date", Date),
    Column("birth_year_month", String(7)),
    Column("sex", String(1)),
    Column("ethnicity", String(2)),
    Column("phone", String(20)),
    Column("phone_tail", String(4)),
    Column("hukou_region", String(6)),
    Column("hukou_address", Text),
    Column("current_district", String(6)),
    Column("current_address", Text),
    Column("residence_start", Date),
    Column("permit_number", String(32)),
    Column("registration_cancelled", Boolean),
    Column("employer", Text),
    Column("insurance_type", String(32)),
    Column("insurance_status", String(32)),
    Column("health_record_no", String(32)),
    Column("health_record_date", Date),
    Column("arrival_year", Integer),
    Column("household_size", Integer),
    Column("survey_wave", String(16)),
    Column("source_updated_at", UTCDateTime),
    UniqueConstraint("department", "source_key", "version"),
    Index("ix_source_record_current", "department", "source_key", "is_current"),
    Index("ix_source_record_batch_id", "batch_id"),
    # Covers the search for what linkage has not linked yet, which would otherwise read every wide row.
    Index("ix_source_record_linkage", "is_current", "department", "source_key", "version"),
    # One area's current records (a worklist, a jurisdiction): a range on the district after two equalities.
    Index("ix_source_record_area", "department", "is_current", "current_district"),
    Index("ix_source_record_id_number", "id_number"),  # whose ID a guardian's number is
)

service_event = Table(
    "service_event",
    metadata,
    *_provenance_columns(),
    Column("person_key", String(64), nullable=False),
    Column("service_type", String(32), nullable=False),
    Column("service_date", Date),
    Column("district_code", String(6)),
    Column("detail", Text, nullable=False),  # JSON object
    Column("source_updated_at", UTCDateTime),
    UniqueConstraint("department", "source_key", "version"),
    Index("ix_service_event_current", "department", "source_key", "is_current"),
    Index("ix_service_event_person_key", "person_key"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("ingest_batch.id"), nullable=False),
    Column("department", String(32), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("location", Text, nullable=False),
    Column("source_key", String(64)),
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the exact bytes or row that could not be used
    Column("payload_sha256", String(64), nullable=False),
    Column("location_sha256", String(64), nullable=False),
    Column("quarantined_at", UTCDateTime, nullable=False),
    # The same bad row seen again (a re-read window, a re-run after a crash) is not quarantined twice.
    UniqueConstraint("department", "stream", "payload_sha256", "location_sha256"),
)

ingest_cursor = Table(
    "ingest_cursor",
    metadata,
    Column("department", String(32), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON of the connector's typed cursor
    Column("batch_id", Id, ForeignKey("ingest_batch.id"), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

ingested_file = Table(
    "ingested_file",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("department", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("batch_id", Id, ForeignKey("ingest_batch.id"), nullable=False),
    Column("ingested_at", UTCDateTime, nullable=False),
    UniqueConstraint("department", "sha256"),
)

VERSIONED_TABLES = {"person": source_record, "service": service_event}
