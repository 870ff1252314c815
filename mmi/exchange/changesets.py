"""Change-set files: Avro object containers (deflate) of the newest change-set schema, the same bytes for the
same content, written so that a crash leaves either the whole file or none of it.

The same content gives the same bytes: the sync marker is derived from the subscriber and the sequence number
(Avro's default is random), the metadata holds no clock, and the records are in outbox order. A file's name
carries its sequence number and the start of its SHA-256, so a file written before a crash and never recorded
can never be confused with (or overwrite) the one recorded for that number.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mmi.exchange.encoder import RecordEncoder, long_bytes, string_bytes
from mmi.exchange.subscriptions import Subscription
from schemas.changeset import latest_version, schema_fingerprint, schema_json

CODEC = "deflate"
# zlib's fastest level, written down so that a new default cannot change the bytes: on change-set records it
# deflates 2.5 times as fast as the default (6) for files about 14% larger (measured on bench.publish's outbox).
COMPRESSION_LEVEL = 1
BLOCK_RECORDS = 2000  # records per container block (one deflate stream each)
Encoded = tuple[int, bytes]  # an event's outbox number and its Avro record's bytes


@dataclass(frozen=True)
class ChangesetFile:
    subscriber: str
    seq: int
    events: int
    first_outbox_seq: int
    last_outbox_seq: int
    content: bytes
    sha256: str
    schema_version: int
    schema_fingerprint: str

    @property
    def file_name(self) -> str:
        """Where it lives, relative to the exchange folder."""
        return f"{self.subscriber}/{self.seq:08d}-{self.sha256[:12]}.avro"


def sync_marker(subscriber: str, seq: int) -> bytes:
    return hashlib.sha256(f"mmi change set\n{subscriber}\n{seq}".encode()).digest()[:16]


@cache
def _encoder(version: int, fields: tuple[str, ...]) -> RecordEncoder:
    return RecordEncoder(schema_json(version), shown={"Person": set(fields)})


def container(version: int, metadata: dict[str, str], sync: bytes, records: list[bytes]) -> bytes:
    """An Avro object container file of encoded `records`: header (schema, codec, metadata, sync marker), then
    deflated blocks."""
    header = {"avro.schema": json.dumps(schema_json(version), ensure_ascii=False, separators=(",", ":")), "avro.codec": CODEC, **metadata}
    parts = [b"Obj\x01", long_bytes(len(header))]
    for key, value in header.items():
        parts += [string_bytes(key), string_bytes(value)]
    parts += [b"\x00", sync]
    for start in range(0, len(records), BLOCK_RECORDS):
        block = records[start : start + BLOCK_RECORDS]
        compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, -15)
        data = compressor.compress(b"".join(block)) + compressor.flush()
        parts += [long_bytes(len(block)), long_bytes(len(data)), data, sync]
    return b"".join(parts)


def encode_records(subscription: Subscription, data: list[dict[str, Any]]) -> list[Encoded]:
    """Avro data of the newest schema (as `routing.Projector` makes them), encoded: (outbox_seq, bytes) each."""
    encode = _encoder(latest_version(), subscription.fields).encode
    return [(datum["outbox_seq"], encode(datum)) for datum in data]


def build_changeset(subscription: Subscription, seq: int, records: list[Encoded], checkpoint: str | None = None) -> ChangesetFile:
    """Change set `seq` of `subscription`, of its encoded records in outbox order; `checkpoint`, the signed
    checkpoint of the audit log that covers its events (mmi.audit), goes into the metadata as `mmi.checkpoint`."""
    version = latest_version()
    fingerprint = schema_fingerprint(version)
    metadata = {
        "mmi.subscriber": subscription.name,
        "mmi.department": subscription.department,
        "mmi.sequence": str(seq),
        "mmi.count": str(len(records)),
        "mmi.schema_version": str(version),
        "mmi.schema_fingerprint": fingerprint,
        "mmi.fields": json.dumps(list(subscription.fields)),
        **({"mmi.checkpoint": checkpoint} if checkpoint else {}),
    }
    content = container(version, metadata, sync_marker(subscription.name, seq), [record for _, record in records])
    return ChangesetFile(
        subscriber=subscription.name,
        seq=seq,
        events=len(records),
        first_outbox_seq=min(outbox_seq for outbox_seq, _ in records),
        last_outbox_seq=max(outbox_seq for outbox_seq, _ in records),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        schema_version=version,
        schema_fingerprint=fingerprint,
    )


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` so that a crash leaves the old state or the whole new file, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)  # a full disk keeps no half-written file to fill it further
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
