"""Landing: one department's deliveries stored, raw and checksummed, as source record versions, quarantine,
cursors and taken files, a checkpoint at a time (the design's "landing" step, between connectors and linkage).

Rows are written in one transaction together with the cursor of the last checkpoint they precede, so the store
never holds a position past rows it does not hold; rows stored beyond the cursor are only read again, and change
nothing then. The batch row is made when the first thing is written: a run that finds nothing new leaves the
store exactly as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, String, Table, and_, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from connectors.base import TakenFile, sha256_hex
from mmi.store.heartbeat import Heartbeat, running_columns
from mmi.store.tables import VERSIONED_TABLES, UTCDateTime, ingest_batch, ingest_cursor, ingested_file, quarantine, to_naive_utc

_IN_CHUNK = 500  # keys per IN (...) list: well under every driver's bound-parameter limit


@dataclass
class PendingVersion:
    kind: str  # "person" or "service", naming the table
    source_key: str
    location: str
    columns: dict[str, Any]  # the standardised fields, ready to store (flags and detail as JSON text)
    payload_text: str  # the raw row as canonical JSON (connectors.base.payload_json)
    payload_sha256: str  # its checksum: a row delivered again with the same checksum adds no version


@dataclass
class PendingQuarantine:
    stream: str
    location: str
    reason: str
    raw: bytes
    source_key: str | None


@dataclass
class BatchCounts:
    delivered: int = 0
    new_versions: int = 0
    unchanged: int = 0
    quarantined: int = 0
    already_quarantined: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class BatchWriter:
    """Collects a department's deliveries and writes them at each checkpoint."""

    def __init__(self, engine: Engine, department: str, *, now: Any = None, heartbeat_seconds: float | None = None) -> None:
        self.engine = engine
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat: Heartbeat | None = None
        self.department = department
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.batch_id: int | None = None
        self.counts = BatchCounts()
        self.versions: list[PendingVersion] = []
        self.quarantined: list[PendingQuarantine] = []
        self.cursors: dict[str, dict[str, Any]] = {}
        self.files: list[TakenFile] = []

    @property
    def pending(self) -> int:
        return len(self.versions) + len(self.quarantined)

    def add_version(self, version: PendingVersion) -> None:
        self.counts.delivered += 1
        self.versions.append(version)

    def add_quarantine(self, item: PendingQuarantine) -> None:
        self.counts.delivered += 1
        self.quarantined.append(item)

    def checkpoint(self, stream: str, cursor: dict[str, Any] | None, taken: TakenFile | None, *, flush_rows: int = 0) -> None:
        """Everything added so far is complete up to `cursor`. It is written now, or with a later checkpoint once
        `flush_rows` rows are pending: either way the cursor is stored in the transaction that stores its rows,
        and fewer, larger transactions spare PostgreSQL a durable commit per page."""
        if cursor is not None:
            self.cursors[stream] = cursor
        if taken is not None:
            self.files.append(taken)
        if self.pending >= flush_rows:
            self.flush()

    def flush(self) -> None:
        """Write everything collected since the last flush, in one transaction."""
        if not (self.versions or self.quarantined or self.cursors or self.files):
            return
        from mmi.audit.log import append_entries, source_entries

        with self.engine.begin() as connection:
            logged: list[dict[str, Any]] = []
            for kind, table in VERSIONED_TABLES.items():
                logged += source_entries(table, self._write_versions(connection, table, [v for v in self.versions if v.kind == kind]))
            self._write_quarantine(connection)
            self._write_cursors(connection)
            self._write_files(connection)
            append_entries(connection, logged)  # the tamper-evident log's leaves, last: its lock is held until commit
        self.versions, self.quarantined, self.cursors, self.files = [], [], {}, []
        if self.batch_id is not None and self.heartbeat is None and self.heartbeat_seconds:
            self.heartbeat = Heartbeat(self.engine, ingest_batch, self.batch_id, self.heartbeat_seconds).start()

    def finish(self, error: str | None = None) -> None:
        """Close the batch (if one was opened) with its counts; pending rows are dropped on error, read again next run."""
        if error is None:
            self.flush()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.batch_id is None:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(ingest_batch)
                .where(ingest_batch.c.id == self.batch_id)
                .values(
                    finished_at=self.now(),
                    status="failed" if error else "done",
                    error=error,
                    **{k: v for k, v in self.counts.as_dict().items() if k != "already_quarantined"},
                )
            )

    def abandon(self, reason: str) -> None:
        """The run failed outside its feed (the store, a bug): mark the batch failed if the store still answers;
        if it does not, the stopped heartbeat lets the next run find it (mmi.store.heartbeat)."""
        if self.heartbeat is not None:
            self.heartbeat.stop()
        with contextlib.suppress(Exception):
            self.finish(reason)

    def _batch(self, connection: Connection) -> int:
        if self.batch_id is None:
            result = connection.execute(
                insert(ingest_batch).values(
                    department=self.department,
                    started_at=self.now(),
                    status="running",
                    delivered=0,
                    new_versions=0,
                    unchanged=0,
                    quarantined=0,
                    **running_columns(),
                )
            )
            primary_key = result.inserted_primary_key
            assert primary_key is not None
            self.batch_id = int(primary_key[0])
        return self.batch_id

    def _write_versions(self, connection: Connection, table: Table, versions: list[PendingVersion]) -> list[dict[str, Any]]:
        """Store the versions that are new; their rows."""
        if not versions:
            return []
        current = _current_versions(connection, table, self.department, {v.source_key for v in versions})
        rows, retired = [], []
        for version in versions:
            sha = version.payload_sha256
            known = current.get(version.source_key)
            if known is not None and known[2] == sha:
                self.counts.unchanged += 1
                continue
            if known is not None and known[0] is not None:
                retired.append(known[0])
            number = known[1] + 1 if known else 1
            current[version.source_key] = (None, number, sha)  # a later row of this chunk compares with this one
            rows.append(self._version_row(connection, version, number))
        if not rows:
            return rows
        self.counts.new_versions += len(rows)
        for start in range(0, len(retired), _IN_CHUNK):
            connection.execute(update(table).where(table.c.id.in_(retired[start : start + _IN_CHUNK])).values(is_current=False))
        # Rows of one key superseded within this same chunk are stored but not current.
        last = {row["source_key"]: i for i, row in enumerate(rows)}
        for i, row in enumerate(rows):
            row["is_current"] = last[row["source_key"]] == i
        bulk_insert(connection, table, rows)
        return rows

    def _version_row(self, connection: Connection, version: PendingVersion, number: int) -> dict[str, Any]:
        return {
            **version.columns,
            "department": self.department,
            "source_key": version.source_key,
            "version": number,
            "is_current": True,
            "batch_id": self._batch(connection),
            "location": version.location,
            "payload_sha256": version.payload_sha256,
            "payload": version.payload_text,
            "ingested_at": self.now(),
        }

    def _write_quarantine(self, connection: Connection) -> None:
        if not self.quarantined:
            return
        fresh: dict[tuple[str, str, str], dict[str, Any]] = {}
        for item in self.quarantined:
            identity = (item.stream, sha256_hex(item.raw), sha256_hex(item.location))
            row: dict[str, Any] = {
                "department": self.department,
                "stream": item.stream,
                "location": item.location,
                "source_key": item.source_key,
                "reason": item.reason,
                "payload": item.raw,
                "payload_sha256": identity[1],
                "location_sha256": identity[2],
            }
            fresh.setdefault(identity, row)
        known = _known_quarantine(connection, self.department, list(fresh))
        new_rows = [row for key, row in fresh.items() if key not in known]
        self.counts.already_quarantined += len(self.quarantined) - len(new_rows)
        self.counts.quarantined += len(new_rows)
        if new_rows:
            batch_id, now = self._batch(connection), self.now()
            connection.execute(insert(quarantine), [{**row, "batch_id": batch_id, "quarantined_at": now} for row in new_rows])

    def _write_cursors(self, connection: Connection) -> None:
        for stream, value in self.cursors.items():
            text = json.dumps(value, sort_keys=True)
            where = and_(ingest_cursor.c.department == self.department, ingest_cursor.c.stream == stream)
            stored = connection.execute(select(ingest_cursor.c.value).where(where)).scalar_one_or_none()
            if stored == text:
                continue
            values = {"value": text, "batch_id": self._batch(connection), "updated_at": self.now()}
            if stored is None:
                connection.execute(insert(ingest_cursor).values(department=self.department, stream=stream, **values))
            else:
                connection.execute(update(ingest_cursor).where(where).values(**values))

    def _write_files(self, connection: Connection) -> None:
        for taken in self.files:
            connection.execute(
                insert(ingested_file).values(
                    department=self.department,
                    file_name=taken.name,
                    sha256=taken.sha256,
                    size=taken.size,
                    batch_id=self._batch(connection),
                    ingested_at=self.now(),
                )
            )


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the same keys. On PostgreSQL through COPY, within the same transaction: per row it
    costs the server a fraction of an INSERT, which made ingest 1.5x faster at a million rows. Each value goes
    through its column's conversion for the driver (booleans, UTCDateTime), what SQLAlchemy would apply."""
    names = list(rows[0])
    if connection.dialect.name != "postgresql" and any(
        column.default is not None for column in table.c if column.name not in rows[0]
    ):  # a default of ours for a column left out: SQLAlchemy fills it in
        connection.execute(insert(table), rows)
        return
    converters = _converters(connection, table, names)
    if not converters:
        _insert_rows(connection, table, names, [[row[name] for name in names] for row in rows])
        return
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i, convert in converters:
            value[i] = convert(value[i])
        values.append(value)
    _insert_rows(connection, table, names, values)


def insert_rows(connection: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows given as sequences of values in `names` order, handed to the driver as they are: for rows read
    straight from the linkage workspace. A time is refused: it must become naive UTC first (mmi.store.tables.UTCDateTime),
    which bulk_insert does; the drivers take the other types as they are. Building a dict per row for bulk_insert
    cost a sixth of writing a first link."""
    if needing := [name for name in names if isinstance(table.c[name].type, UTCDateTime)]:
        raise ValueError(f"insert_rows into {table.name}: column(s) {', '.join(needing)} need converting; use bulk_insert")
    _insert_rows(connection, table, names, rows)


def _insert_rows(connection: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: COPY, in the connection's transaction; SQLite: one executemany on the driver's cursor.
    SQLAlchemy's per-row parameter handling cost more than the insert itself (halving the cost of recording
    deliveries, a tenth of an ingest)."""
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = f"INSERT INTO {preparer.format_table(table)} ({columns}) VALUES ({', '.join('?' * len(names))})"
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


def _converters(connection: Connection, table: Table, names: Sequence[str]) -> list[tuple[int, Any]]:
    """(position, conversion) of the columns whose values the driver cannot take as they are. PostgreSQL's
    COPY bypasses SQLAlchemy's types, so there only our one custom conversion applies (aware → naive UTC: COPY of an
    aware time into a TIMESTAMP WITHOUT TIME ZONE column would silently drop its offset); SQLite gets each column's
    own bind processor."""

    def conversion(column_type: Any) -> Any:
        if connection.dialect.name == "postgresql":
            return to_naive_utc if isinstance(column_type, UTCDateTime) else None
        return column_type.bind_processor(connection.dialect)

    return [(i, convert) for i, name in enumerate(names) if (convert := conversion(table.c[name].type))]


def _current_versions(connection: Connection, table: Table, department: str, keys: set[str]) -> dict[str, tuple[int | None, int, str]]:
    """source_key → (row id, version, payload checksum) of each key's current version."""
    columns = (table.c.source_key, table.c.id, table.c.version, table.c.payload_sha256)
    current = (table.c.department == department, table.c.is_current.is_(True))
    ordered = sorted(keys)
    if connection.dialect.name == "postgresql":
        # One array parameter, one query, however many keys: half the cost of IN lists at a million rows.
        query = select(*columns).where(*current, table.c.source_key == any_(bindparam("keys", type_=ARRAY(String))))
        return {key: (row_id, version, sha) for key, row_id, version, sha in connection.execute(query, {"keys": ordered})}
    found: dict[str, tuple[int | None, int, str]] = {}
    query = select(*columns).where(*current, table.c.source_key.in_(bindparam("keys", expanding=True)))
    for start in range(0, len(ordered), _IN_CHUNK):
        for key, row_id, version, sha in connection.execute(query, {"keys": ordered[start : start + _IN_CHUNK]}):
            found[key] = (row_id, version, sha)
    return found


def _known_quarantine(connection: Connection, department: str, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    shas = sorted({sha for _, sha, _ in keys})
    known: set[tuple[str, str, str]] = set()
    query = select(quarantine.c.stream, quarantine.c.payload_sha256, quarantine.c.location_sha256).where(
        quarantine.c.department == department, quarantine.c.payload_sha256.in_(bindparam("shas", expanding=True))
    )
    for start in range(0, len(shas), _IN_CHUNK):
        known.update(tuple(row) for row in connection.execute(query, {"shas": shas[start : start + _IN_CHUNK]}))
    return known


class StoredSourceState:
    """`connectors.base.SourceState` read from the store: cursors and taken files of one department."""

    def __init__(self, engine: Engine, department: str) -> None:
        with engine.connect() as connection:
            self._cursors = {
                stream: json.loads(value)
                for stream, value in connection.execute(
                    select(ingest_cursor.c.stream, ingest_cursor.c.value).where(ingest_cursor.c.department == department)
                )
            }
            self._files = set(connection.execute(select(ingested_file.c.sha256).where(ingested_file.c.department == department)).scalars())

    def cursor(self, stream: str) -> dict[str, Any] | None:
        return self._cursors.get(stream)

    def file_taken(self, sha256: str) -> bool:
        return sha256 in self._files


def count_rows(engine: Engine) -> dict[str, int]:
    """Row counts of the ingest tables, for reports and for checking a re-run changed nothing."""
    from mmi.store.tables import metadata

    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table)).scalar_one() for name, table in metadata.tables.items()}
