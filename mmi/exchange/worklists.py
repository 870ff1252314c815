"""Worklist files: for each health subscriber that lists `worklists`, who entered and who left them since its last one.

Worklist files share the subscriber's change-set sequence (one numbering, one list, one acknowledged position, the
same download route): a department reads `GET /v1/changesets` as before and tells the two kinds apart by the
item's `kind` (and the file's `mmi.kind`). A separate sequence would have doubled the API (a second list, a second
acknowledgement) for the same guarantees. A file is made only when something changed; the state it leaves is kept
in `worklist_state`, the next publish's "previous". A file's bytes are the same for the same content: the sync
marker is derived from the subscriber and the number, and no clock is in the metadata.

Only what the subscription's fields allow is filled in (the rest is null), and of record keys only its own
department's, as for change sets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from typing import Any

import fastavro
from sqlalchemy import Connection, Engine, delete, insert, select

from mmi.exchange.changesets import COMPRESSION_LEVEL, ChangesetFile, sync_marker
from mmi.exchange.subscriptions import Subscription
from mmi.indicators.changes import Listed, State, WorklistChange, worklist_changes
from mmi.indicators.definitions import Definitions
from mmi.store.indicator_tables import worklist_file, worklist_state
from schemas.worklist import VERSION, parsed_schema, schema_fingerprint

KIND = "worklist"
# The subscription's golden field that allows each person field of the schema.
_ALLOWED_BY = {
    "name": "name",
    "sex": "sex",
    "birth_date": "birth_date",
    "phone": "phone",
    "address": "current_address",
    "residence_start": "residence_start",
    "guardian_name": "name",
    "guardian_phone": "phone",
}


def delivered_state(source: Engine | Connection, subscriber: str) -> dict[str, dict[str, Listed]]:
    """The worklists as last delivered to `subscriber`: indicator → master ID → where and since when."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return delivered_state(connection, subscriber)
    state: dict[str, dict[str, Listed]] = defaultdict(dict)
    query = select(worklist_state).where(worklist_state.c.subscriber == subscriber)
    for row in source.execute(query):
        state[row.indicator][row.master_id] = Listed(row.district, row.due_since)
    return dict(state)


def pending_changes(
    engine: Engine, subscription: Subscription, as_of: dt.date, definitions: Definitions
) -> tuple[dict[str, dict[str, Listed]], list[WorklistChange]]:
    """The state last delivered and the changes since (computed outside the publisher's lock: it only reads)."""
    previous = delivered_state(engine, subscription.name)
    changes = worklist_changes(
        engine,
        indicators=subscription.worklists,
        prefixes=subscription.jurisdiction,
        as_of=as_of,
        previous=previous,
        definitions=definitions,
    )
    return previous, changes


def build_worklist_file(
    subscription: Subscription, seq: int, changes: list[WorklistChange], as_of: dt.date, definitions: Definitions, outbox_floor: int
) -> ChangesetFile:
    """Worklist file `seq` of the subscriber; its outbox numbers are the outbox floor its index state was read at."""
    records = [_record(subscription, change, as_of, definitions.version) for change in changes]
    metadata = {
        "mmi.kind": KIND,
        "mmi.subscriber": subscription.name,
        "mmi.department": subscription.department,
        "mmi.sequence": str(seq),
        "mmi.count": str(len(records)),
        "mmi.schema_version": str(VERSION),
        "mmi.schema_fingerprint": schema_fingerprint(),
        "mmi.as_of": as_of.isoformat(),
        "mmi.worklists": json.dumps(list(subscription.worklists)),
        "mmi.fields": json.dumps(list(subscription.fields)),
    }
    buffer = io.BytesIO()
    fastavro.writer(
        buffer,
        parsed_schema(),
        records,
        codec="deflate",
        codec_compression_level=COMPRESSION_LEVEL,
        metadata=metadata,
        sync_marker=sync_marker(subscription.name, seq),
    )
    content = buffer.getvalue()
    return ChangesetFile(
        subscriber=subscription.name,
        seq=seq,
        events=len(records),
        first_outbox_seq=outbox_floor,
        last_outbox_seq=outbox_floor,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        schema_version=VERSION,
        schema_fingerprint=schema_fingerprint(),
    )


def _record(subscription: Subscription, change: WorklistChange, as_of: dt.date, version: str) -> dict[str, Any]:
    row = change.row
    person: dict[str, Any] = {field: None for field in _ALLOWED_BY}
    keys: list[str] = []
    if row is not None:
        values = {"address": row.address, **{field: getattr(row, field) for field in _ALLOWED_BY if field != "address"}}
        person = {field: values[field] if allowed in subscription.fields else None for field, allowed in _ALLOWED_BY.items()}
        keys = [key for key in row.record_keys.split() if key.startswith(f"{subscription.department}|")]
    return {
        "indicator": change.indicator,
        "definition_version": version,
        "as_of": as_of,
        "change": change.change,
        "reason": change.reason,
        "master_id": change.master_id,
        "district": change.district,
        "due_since": change.due_since,
        "unmet": row.unmet if row is not None else None,
        **person,
        "record_keys": keys,
    }


def record_worklist_file(connection: Connection, made: ChangesetFile, changes: list[WorklistChange], as_of: dt.date, version: str) -> None:
    """Mark the recorded change-set number as a worklist file and move the delivered state on by its changes."""
    entered = [change for change in changes if change.change == "ENTERED"]
    left = [change for change in changes if change.change == "LEFT"]
    connection.execute(
        insert(worklist_file).values(
            subscriber=made.subscriber, seq=made.seq, as_of=as_of, definition_version=version, entered=len(entered), left=len(left)
        )
    )
    for change in left:
        connection.execute(
            delete(worklist_state).where(
                worklist_state.c.subscriber == made.subscriber,
                worklist_state.c.indicator == change.indicator,
                worklist_state.c.master_id == change.master_id,
            )
        )
    if entered:
        connection.execute(
            insert(worklist_state),
            [
                {
                    "subscriber": made.subscriber,
                    "indicator": change.indicator,
                    "master_id": change.master_id,
                    "district": change.district,
                    "due_since": change.due_since,
                    "entered_seq": made.seq,
                }
                for change in entered
            ],
        )


def kinds(connection: Connection, subscriber: str, seqs: list[int]) -> dict[int, str]:
    """Which of the subscriber's numbered files are worklist files (the others are change sets)."""
    if not seqs:
        return {}
    query = select(worklist_file.c.seq).where(worklist_file.c.subscriber == subscriber, worklist_file.c.seq.in_(seqs))
    return {seq: KIND for (seq,) in connection.execute(query)}


__all__ = ["KIND", "State", "build_worklist_file", "delivered_state", "kinds", "pending_changes", "record_worklist_file"]
