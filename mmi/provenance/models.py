"""What the provenance service returns: the JSON API's response models (published in the OpenAPI document) and
what the auditors' pages render."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

SearchKind = Literal["id_number", "name", "master_id", "record_key"]


class FieldSource(BaseModel):
    department: str
    source_key: str
    version: int
    location: str | None = Field(
        description="Where in the department's feed the version was read (table and cursor, file and line, API page)"
    )
    batch_id: int | None = Field(description="The ingest batch that stored it")
    payload_sha256: str | None = Field(description="SHA-256 of the raw payload as delivered, recorded at ingest")
    rule: str = Field(description="The survivorship rule that chose this value")


class GoldenField(BaseModel):
    value: Any = Field(description="The golden value (dates as ISO-8601 text)")
    source: FieldSource | None = Field(description="The source record version it came from (null: no record gives a value)")


class MasterRecordRef(BaseModel):
    record_key: str = Field(description="department|source_key")
    department: str
    source_key: str
    version: int | None = Field(description="The source version last linked (null: no longer held)")
    since: dt.datetime | None = Field(description="Since when the record has been in this master (the event that put it there)")


class MasterEventView(BaseModel):
    seq: int
    event_id: str
    operation: str
    occurred_at: dt.datetime
    run_id: int
    model_version_id: int
    model_sha256: str | None
    related: list[str]
    changed_fields: list[str]
    records_before: list[str]
    records_after: list[str]
    golden_before: dict[str, Any] | None
    golden_after: dict[str, Any] | None


class StewardDecision(BaseModel):
    source: Literal["review_decision", "link_constraint"] = Field(
        description="A review decision, or a link constraint (mmi constrain or a decision's)"
    )
    id: int
    kind: str = Field(description="match, not_match, split (review); must_link, cannot_link (constraint)")
    status: str | None
    records: list[str]
    reason: str
    decided_by: str
    decided_at: dt.datetime
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None


class Download(BaseModel):
    by: str = Field(description="The token subject that downloaded the change set")
    role: str
    at: dt.datetime


class Delivery(BaseModel):
    subscriber: str
    seq: int = Field(description="The subscriber's change-set number")
    event_id: str
    outbox_seq: int
    published_at: dt.datetime
    file_sha256: str
    downloads: list[Download]


class MasterView(BaseModel):
    master_id: str
    status: str = Field(description="active or retired (merged away or emptied)")
    successor_id: str | None = None
    as_of: dt.datetime | None = Field(description="The time asked for (null: now)")
    fields: dict[str, GoldenField]
    records: list[MasterRecordRef]
    events: list[MasterEventView]
    decisions: list[StewardDecision]
    deliveries: list[Delivery]


class IngestBatchView(BaseModel):
    id: int
    department: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    files: list[str] = Field(description="Drop files taken in that batch, with their SHA-256 (file departments)")


class RecordVersionView(BaseModel):
    department: str
    source_key: str
    version: int
    table: str = Field(description="source_record (a person) or service_event (a service)")
    is_current: bool
    payload_base64: str = Field(description="The raw payload exactly as stored at ingest (UTF-8 JSON text), base64")
    payload_sha256: str = Field(description="SHA-256 recorded at ingest (recompute it over the decoded payload)")
    payload_redacted: bool = Field(description="The payload was erased by `mmi audit redact`; its checksum stays")
    location: str
    batch: IngestBatchView
    ingested_at: dt.datetime
    standardised: dict[str, Any]
    quality_flags: list[str]
    master_id: str | None = Field(description="The master the record belongs to now (if linked)")


class DisclosureItem(BaseModel):
    subscriber: str
    seq: int = Field(description="The change set that carried the event")
    event_id: str
    master_id: str
    operation: str
    fields: list[str] = Field(description="The golden fields the change set carried to that subscriber (what it received)")
    fields_from: Literal["changeset", "subscription"] = Field(
        description="`changeset`: read from the delivered file's header (`mmi.fields`), its SHA-256 the published one; "
        "`subscription`: the file is gone or altered, so these are the subscription's fields now, which may differ "
        "from what was sent (`mmi audit verify` reports the file)"
    )
    published_at: dt.datetime
    downloads: list[Download]


class Disclosures(BaseModel):
    masters: list[str] = Field(description="The masters the question resolved to")
    items: list[DisclosureItem]


class SearchHit(BaseModel):
    master_id: str
    status: str
    name: str | None
    current_district: str | None
    record_count: int


class SearchResult(BaseModel):
    kind: SearchKind
    hits: list[SearchHit]
    truncated: bool


class ReadView(BaseModel):
    id: int
    subject: str
    role: str
    channel: str
    what: str
    target: str | None
    query_kind: str | None
    query_sha256: str | None  # HMAC-SHA-256 of an ID number or name searched for (mmi.audit.read_terms)
    as_of: dt.datetime | None
    results: int
    read_at: dt.datetime


class ReadPage(BaseModel):
    items: list[ReadView]


class Verification(BaseModel):
    ran_at: dt.datetime
    ran_by: str
    intact: bool
    leaves: int
    checkpoints: int
    rows_checked: int
    redacted: int
    problems: int
    first_problem: str | None


class LogState(BaseModel):
    tree_size: int
    root_hash: str
    checkpoint: str | None = Field(description="The latest signed checkpoint (C2SP signed note)")
    checkpoint_size: int | None
    checkpoint_made_at: dt.datetime | None
    leaves_by_kind: dict[str, int]
    last_verification: Verification | None
