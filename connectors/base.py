"""What every connector yields, and what it may ask about the past.

A connector reads one department's native feed and yields a stream of `Delivery` values, in feed order:
- `Row`: a readable row, with its native payload and where it was found;
- `Unreadable`: something that could not be read as a row (bytes, a cut-off line), with a reason;
- `Checkpoint`: everything yielded before it is complete. The pipeline stores those rows and, in the same
  transaction, the stream's new cursor (and the drop file now fully taken). A crash before a checkpoint
  only means those rows are read again; re-delivered rows change nothing.

Connectors never write to the store themselves; they read their previous position through `SourceState`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from schemas.canonical_json import canonical_json
from schemas.raw import RawPerson

RecordKind = Literal["person", "service"]


@dataclass(frozen=True, slots=True)
class Row:
    stream: str
    kind: RecordKind
    source_key: str
    payload: dict[str, Any]  # the native row, JSON-able, exactly as delivered
    location: str  # table + cursor, file + line, API page + item


@dataclass(frozen=True, slots=True)
class Unreadable:
    stream: str
    location: str
    reason: str  # what is wrong and what to do about it
    raw: bytes  # what was delivered, kept for the person who acts on it
    source_key: str | None = None


@dataclass(frozen=True, slots=True)
class TakenFile:
    """A drop file read to its end: never read again, whatever it is later renamed to."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    stream: str
    cursor: dict[str, Any] | None = None  # the stream's position after everything yielded so far
    taken_file: TakenFile | None = None


Delivery = Row | Unreadable | Checkpoint


class Cursor(Protocol):
    """A stream's typed position, stored as JSON with each checkpoint and read back by the next run."""

    def as_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Cursor: ...


class SourceState(Protocol):
    """What a connector may know of earlier runs."""

    def cursor(self, stream: str) -> dict[str, Any] | None: ...

    def file_taken(self, sha256: str) -> bool: ...


class Connector(Protocol):
    department: str

    def deliveries(self, state: SourceState) -> Iterator[Delivery]: ...

    def to_raw_person(self, payload: dict[str, Any]) -> RawPerson:
        """Native columns to canonical names (values untouched); standardisation comes after."""
        ...


def payload_json(payload: dict[str, Any]) -> str:
    """The canonical JSON of a payload: what is stored, and what its checksum is taken over."""
    return canonical_json(payload, default=_jsonable)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    raise TypeError(f"cannot store a {type(value).__name__} in a payload")


def file_sha256(path: Any, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """Checksum and size of a file, read in chunks (drop files can be large)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
