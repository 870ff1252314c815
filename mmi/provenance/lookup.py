"""Reads shared by the provenance views: events of masters, their deliveries and downloads, record keys."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, select, tuple_

from mmi.provenance.models import Download
from mmi.store.exchange_tables import changeset, changeset_download, changeset_event
from mmi.store.index_tables import master_event, master_held_record

CHUNK = 500  # keys per IN list


def json_list(text: str | None) -> list[Any]:
    value = json.loads(text) if text else []
    return value if isinstance(value, list) else []


def json_object(text: str | None) -> dict[str, Any] | None:
    value = json.loads(text) if text else None
    return value if isinstance(value, dict) else None


def chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def events_of(connection: Connection, masters: Collection[str]) -> list[Any]:
    """Every event of these masters, in commit order."""
    rows: list[Any] = []
    for part in chunks(sorted(masters)):
        rows += connection.execute(select(master_event).where(master_event.c.master_id.in_(part))).all()
    return sorted(rows, key=lambda row: row.seq)


def masters_holding(connection: Connection, record_keys: Collection[str]) -> set[str]:
    """Every master that ever held one of these records (master_held_record: what the events' record lists say)."""
    masters: set[str] = set()
    for part in chunks(sorted(record_keys)):
        query = select(master_held_record.c.master_id).where(master_held_record.c.record_key.in_(part)).distinct()
        masters.update(connection.execute(query).scalars())
    return masters


def deliveries_of(connection: Connection, outbox_seqs: Collection[int]) -> list[dict[str, Any]]:
    """Each (subscriber, event) delivery of these outbox events: the change set, when it was made, its downloads."""
    delivered: list[Any] = []
    for part in chunks(sorted(outbox_seqs)):
        query = (
            select(
                changeset_event.c.subscriber,
                changeset_event.c.outbox_seq,
                changeset_event.c.changeset_seq,
                changeset.c.created_at,
                changeset.c.sha256,
                changeset.c.file_name,
            )
            .join(
                changeset, (changeset.c.subscriber == changeset_event.c.subscriber) & (changeset.c.seq == changeset_event.c.changeset_seq)
            )
            .where(changeset_event.c.outbox_seq.in_(part))
        )
        delivered += connection.execute(query).all()
    downloads = _downloads(connection, {(row.subscriber, row.changeset_seq) for row in delivered})
    return [
        {
            "subscriber": row.subscriber,
            "outbox_seq": int(row.outbox_seq),
            "seq": int(row.changeset_seq),
            "published_at": row.created_at,
            "file_sha256": row.sha256,
            "file_name": row.file_name,
            "downloads": downloads.get((row.subscriber, row.changeset_seq), []),
        }
        for row in sorted(delivered, key=lambda row: (row.outbox_seq, row.subscriber))
    ]


def _downloads(connection: Connection, changesets: set[tuple[str, int]]) -> dict[tuple[str, int], list[Download]]:
    found: dict[tuple[str, int], list[Download]] = defaultdict(list)
    for part in chunks(sorted(changesets)):
        query = (
            select(changeset_download)
            .where(tuple_(changeset_download.c.subscriber, changeset_download.c.seq).in_(part))
            .order_by(changeset_download.c.id)
        )
        for row in connection.execute(query):
            found[(row.subscriber, row.seq)].append(Download(by=row.subject, role=row.role, at=row.downloaded_at))
    return found
