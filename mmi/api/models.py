"""The API's response models (apart from the store's rows): what `/openapi.json` publishes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class ChangesetItem(BaseModel):
    seq: int = Field(description="The change set's number for this subscriber: 1, 2, 3... without gaps")
    kind: Literal["changes", "worklist"] = Field(
        default="changes",
        description="changes: master-index events (schemas/changeset/); worklist: who entered and left the subscription's "
        "worklists (schemas/worklist/), numbered in the same sequence and acknowledged the same way",
    )
    events: int = Field(description="Events in the file")
    sha256: str = Field(description="SHA-256 of the file's bytes, recorded when it was published")
    size: int = Field(description="The file's size in bytes")
    schema_version: int = Field(description="Version of its kind's schema (schemas/changeset/vN.avsc or schemas/worklist/vN.avsc)")
    schema_fingerprint: str = Field(description="SHA-256 of that schema's Parsing Canonical Form")
    first_outbox_seq: int = Field(description="Lowest outbox number among its events (worklist: the outbox floor it was computed at)")
    last_outbox_seq: int = Field(description="Highest outbox number among its events (worklist: the same floor)")
    created_at: dt.datetime
    href: str = Field(description="Where to fetch the file (application/avro)")


class Position(BaseModel):
    seq: int = Field(description="The last change set acknowledged; 0 before the first acknowledgement")
    at: dt.datetime | None = None
    by: str | None = Field(default=None, description="The token subject that acknowledged it")


class ChangesetList(BaseModel):
    subscriber: str
    acknowledged: Position
    latest: int = Field(description="The newest change set's number (0: none yet)")
    items: list[ChangesetItem]


class Acknowledgement(BaseModel):
    subscriber: str
    acknowledged: Position


class Health(BaseModel):
    status: str
