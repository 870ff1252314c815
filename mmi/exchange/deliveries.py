"""What the delivery API reads and records: change sets per subscriber, their files, acknowledgements, downloads."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mmi.audit.exchange import log_acknowledgement, log_download
from mmi.store.exchange_tables import changeset, changeset_download, subscriber_position
from mmi.store.indicator_tables import worklist_file
from schemas.errors import MMIError


class ChangesetNotFound(MMIError):
    """No such change set for this subscriber."""


class ChangesetCorrupt(MMIError):
    """A change-set file is missing or no longer has the SHA-256 recorded when it was published."""


def list_changesets(engine: Engine, subscriber: str, after: int, limit: int) -> list[dict[str, Any]]:
    """The subscriber's change sets numbered above `after`, oldest first, at most `limit`, each with its `kind`:
    `changes` (master-index events, schemas/changeset/) or `worklist` (schemas/worklist/)."""
    is_worklist = worklist_file.c.seq.is_not(None)
    query = (
        select(changeset, case((is_worklist, "worklist"), else_="changes").label("kind"))
        .outerjoin(worklist_file, (worklist_file.c.subscriber == changeset.c.subscriber) & (worklist_file.c.seq == changeset.c.seq))
        .where(changeset.c.subscriber == subscriber, changeset.c.seq > after)
        .order_by(changeset.c.seq)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def latest_seq(engine: Engine, subscriber: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(changeset.c.seq)).where(changeset.c.subscriber == subscriber)).scalar() or 0)


def read_changeset(engine: Engine, out_dir: Path, subscriber: str, seq: int) -> tuple[dict[str, Any], bytes]:
    """The change set's row and its file's bytes, checked against the SHA-256 recorded at publication."""
    query = select(changeset).where(changeset.c.subscriber == subscriber, changeset.c.seq == seq)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise ChangesetNotFound(f"subscriber {subscriber} has no change set {seq}: list them with GET /v1/changesets")
    return dict(row._mapping), published_content(out_dir, subscriber, seq, row.file_name, row.sha256)


def published_content(out_dir: Path, subscriber: str, seq: int, file_name: str, sha256: str) -> bytes:
    """A change set's file as published: ChangesetCorrupt when it is missing or its SHA-256 is not `sha256`."""
    path = out_dir / file_name
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ChangesetCorrupt(
            f"change set {subscriber}/{seq} is recorded but its file {path} is missing: restore it from backup"
        ) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ChangesetCorrupt(
            f"change set {subscriber}/{seq}: {path} does not match the SHA-256 recorded at publication; restore it from backup"
        )
    return content


def record_download(engine: Engine, subscriber: str, seq: int, subject: str, role: str) -> None:
    with engine.begin() as connection:
        result = connection.execute(
            insert(changeset_download).values(subscriber=subscriber, seq=seq, subject=subject, role=role, downloaded_at=_now())
        )
        log_download(connection, int(result.inserted_primary_key[0]))  # type: ignore[index]


def acknowledged(engine: Engine, subscriber: str) -> dict[str, Any]:
    """The subscriber's acknowledged position: {'seq': 0, ...} before its first acknowledgement."""
    query = select(subscriber_position).where(subscriber_position.c.subscriber == subscriber)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return {"seq": 0, "at": None, "by": None}
    return {"seq": row.acknowledged_seq, "at": row.acknowledged_at, "by": row.acknowledged_by}


def acknowledge(engine: Engine, subscriber: str, seq: int, subject: str) -> dict[str, Any]:
    """Move the subscriber's position up to `seq` (never back: an older acknowledgement changes nothing)."""
    if seq < 1 or seq > latest_seq(engine, subscriber):
        raise ChangesetNotFound(f"subscriber {subscriber} has no change set {seq} to acknowledge")
    for attempt in (1, 2):
        try:
            _move_position(engine, subscriber, seq, subject)
            break
        except IntegrityError:
            # Two first acknowledgements at once both found no row and both inserted it (PostgreSQL lets both
            # try; SQLite's write lock never does): the one that lost tries again, and now moves the row.
            if attempt == 2:
                raise
    return acknowledged(engine, subscriber)


def _move_position(engine: Engine, subscriber: str, seq: int, subject: str) -> None:
    now = _now()
    with engine.begin() as connection:
        moved = connection.execute(
            update(subscriber_position)
            .where(subscriber_position.c.subscriber == subscriber, subscriber_position.c.acknowledged_seq < seq)
            .values(acknowledged_seq=seq, acknowledged_at=now, acknowledged_by=subject)
        ).rowcount
        exists = connection.execute(select(subscriber_position.c.subscriber).where(subscriber_position.c.subscriber == subscriber)).first()
        if not moved and not exists:
            connection.execute(
                insert(subscriber_position).values(
                    subscriber=subscriber, acknowledged_seq=seq, acknowledged_at=now, acknowledged_by=subject
                )
            )
        if moved or not exists:
            log_acknowledgement(connection, subscriber)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
