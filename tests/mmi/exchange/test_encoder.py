"""The change-set encoder writes exactly the bytes fastavro writes for the same record."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import fastavro
import pytest

from mmi.exchange.encoder import RecordEncoder, long_bytes
from schemas.changeset import parsed_schema, schema_json, versions
from schemas.changeset.compatibility import named_types, sample_value


def fastavro_bytes(version: int, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed_schema(version), record)
    return buffer.getvalue()


@pytest.mark.parametrize("version", versions())
def test_every_sample_encodes_as_fastavro_does(version: int) -> None:
    schema = schema_json(version)
    encoder = RecordEncoder(schema)
    for index in range(60):
        record = sample_value(schema, index, named_types(schema))
        assert encoder.encode(record) == fastavro_bytes(version, record), f"sample {index}"


def test_hidden_person_fields_encode_as_null() -> None:
    version = versions()[-1]
    schema = schema_json(version)
    shown = {"name", "birth_date"}
    encoder = RecordEncoder(schema, shown={"Person": shown})
    for index in range(0, 40, 3):
        record = sample_value(schema, index, named_types(schema))
        hidden = {key: (value if key in shown else None) for key, value in (record["person_after"] or {}).items()}
        expected = fastavro_bytes(version, record | {"person_after": hidden if record["person_after"] else None, "person_before": None})
        assert encoder.encode(record | {"person_before": None}) == expected


@pytest.mark.parametrize(
    "value",
    [0, 1, -1, 63, 64, -65, 8191, 8192, -8193, 1048575, 1048576, 134217727, 134217728, 2**31, -(2**31), 2**62, 2**63 - 1, -(2**63)]
    + [2**48 - 1, 2**48, -(2**48), -(2**48) - 1, 2**55 - 1, 2**55, -(2**55), -(2**55) - 1, 1_795_132_805_000_000],  # 8 groups, each side
)
def test_longs(value: int) -> None:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, "long", value)
    assert long_bytes(value) == buffer.getvalue()


def test_times_far_from_the_epoch() -> None:
    schema = {"type": "record", "name": "T", "fields": [{"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros"}}]}
    encoder = RecordEncoder(schema)
    for moment in (
        dt.datetime(1900, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 22, 8, 3, 44, 999999, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    ):
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), {"t": moment})
        assert encoder.encode({"t": moment}) == buffer.getvalue(), moment


def test_types_it_does_not_handle_are_refused() -> None:
    with pytest.raises(ValueError, match="unions of null and one type"):
        RecordEncoder({"type": "record", "name": "U", "fields": [{"name": "u", "type": ["string", "long"]}]})
    with pytest.raises(ValueError, match="does not handle"):
        RecordEncoder({"type": "record", "name": "F", "fields": [{"name": "f", "type": "float"}]})
