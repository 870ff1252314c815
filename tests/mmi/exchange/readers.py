"""Reading change sets the way a department would: with fastavro and with the Apache `avro` library."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import avro.datafile
import avro.io
import fastavro
from sqlalchemy import Engine, select

from mmi.store.exchange_tables import changeset


def read_fastavro(content: bytes) -> tuple[dict[str, str], list[dict[str, Any]]]:
    reader = fastavro.reader(io.BytesIO(content))
    records = list(reader)
    metadata = {key: value.decode() if isinstance(value, bytes) else value for key, value in reader.metadata.items()}
    return metadata, records


def read_apache_avro(content: bytes) -> tuple[dict[str, str], list[dict[str, Any]]]:
    with avro.datafile.DataFileReader(io.BytesIO(content), avro.io.DatumReader()) as reader:
        metadata = {key: reader.get_meta(key).decode() for key in reader.meta if key.startswith("mmi.")}  # type: ignore[union-attr]
        return metadata, list(reader)  # type: ignore[arg-type]


def decompressed(content: bytes) -> bytes:
    """Every block's records, inflated: what a sentinel would have to hide in if not in the raw bytes."""
    return b"".join(block.bytes_.getvalue() for block in fastavro.block_reader(io.BytesIO(content)))


def published(engine: Engine, out_dir: Path, subscriber: str) -> list[tuple[dict[str, Any], bytes]]:
    """The subscriber's change sets in order: (row, file bytes), each file checked against its recorded SHA-256."""
    query = select(changeset).where(changeset.c.subscriber == subscriber).order_by(changeset.c.seq)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    files = []
    for row in rows:
        content = (out_dir / row["file_name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == row["sha256"]
        files.append((row, content))
    return files


def delivered_events(engine: Engine, out_dir: Path, subscriber: str) -> list[dict[str, Any]]:
    """Every event the subscriber received, in change-set order, read with fastavro."""
    return [record for _row, content in published(engine, out_dir, subscriber) for record in read_fastavro(content)[1]]
