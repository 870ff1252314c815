"""The exchange's leaves: change sets (with their file's SHA-256 and their events), downloads, acknowledgements."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from mmi.audit.log import append, append_entries, row_entry
from mmi.store.exchange_tables import changeset, changeset_download, subscriber_position

if TYPE_CHECKING:
    from mmi.exchange.changesets import ChangesetFile as MadeChangeset


def events_digest(outbox_seqs: Iterable[int]) -> str:
    """SHA-256 of a change set's outbox numbers, ascending, comma-separated."""
    return hashlib.sha256(",".join(str(seq) for seq in sorted(outbox_seqs)).encode()).hexdigest()


def log_changesets(connection: Connection, files: Sequence[MadeChangeset], deliveries: Sequence[Mapping[str, Any]]) -> None:
    """One leaf per change set just recorded: the row, the file's SHA-256, and which events it carries."""
    if not files:
        return
    carried: dict[tuple[str, int], list[int]] = defaultdict(list)
    for delivery in deliveries:
        carried[(delivery["subscriber"], delivery["changeset_seq"])].append(delivery["outbox_seq"])
    keys = {(made.subscriber, made.seq) for made in files}
    rows = [
        row._mapping
        for row in connection.execute(select(changeset).where(changeset.c.batch_id == _batch_of(connection, files)))
        if (row.subscriber, row.seq) in keys
    ]
    append_entries(
        connection,
        [
            row_entry(
                "changeset",
                changeset,
                row,
                file_sha256=row["sha256"],
                events_sha256=events_digest(carried[(row["subscriber"], row["seq"])]),
            )
            for row in rows
        ],
    )


def _batch_of(connection: Connection, files: Sequence[MadeChangeset]) -> int:
    made = files[0]
    query = select(changeset.c.batch_id).where(changeset.c.subscriber == made.subscriber, changeset.c.seq == made.seq)
    return int(connection.execute(query).scalar_one())


def log_download(connection: Connection, download_id: int) -> None:
    row = connection.execute(select(changeset_download).where(changeset_download.c.id == download_id)).one()._mapping
    append(connection, "download", table=changeset_download, row=row)


def log_acknowledgement(connection: Connection, subscriber: str) -> None:
    row = connection.execute(select(subscriber_position).where(subscriber_position.c.subscriber == subscriber)).one()._mapping
    append(connection, "acknowledgement", table=subscriber_position, row=row)
