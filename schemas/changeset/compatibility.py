"""Full transitive compatibility of the change-set schema versions, checked by round trips.

For every pair of versions (old, new), sample records written with one are read with the other through Avro's
schema resolution (fastavro, container files), both ways, and each value read must be what resolution promises:
a field both versions have keeps its value, a field the reader has and the writer lacks takes its default, an
enum symbol the reader lacks takes the enum's default. The samples cover every union branch and every enum
symbol of the writer's schema, so a change that breaks an old reader (a new field without a default, a removed
symbol without a default, a changed type) fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any

import fastavro

from schemas.errors import SchemaError

Schema = Any  # a schema node in JSON form: a name, a list (union) or a dict
SAMPLES = 12  # enough for every branch of every union and every symbol of every enum in these schemas

_EPOCH_DAY = dt.date(2020, 1, 1)
_EPOCH_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def check_full_transitive(schemas: dict[int, dict[str, Any]]) -> list[str]:
    """Problems found between any two versions (empty when every version reads every other's data)."""
    problems: list[str] = []
    ordered = sorted(schemas)
    for position, new in enumerate(ordered):
        for old in ordered[:position]:
            problems += check_pair(schemas[old], schemas[new], f"v{old} data read by v{new}")
            problems += check_pair(schemas[new], schemas[old], f"v{new} data read by v{old}")
    return problems


def check_pair(writer: dict[str, Any], reader: dict[str, Any], label: str) -> list[str]:
    """Write samples with `writer`, read them with `reader`; each difference from resolution's promise is a problem."""
    writer_names, reader_names = named_types(writer), named_types(reader)
    records = [sample_value(writer, index, writer_names) for index in range(SAMPLES)]
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(writer), records, codec="deflate")
    buffer.seek(0)
    try:
        read = list(fastavro.reader(buffer, reader_schema=fastavro.parse_schema(reader)))
    except Exception as error:  # noqa: BLE001 - any failure to resolve is the finding itself
        return [f"{label}: cannot be read: {type(error).__name__}: {error}"]
    problems = []
    for index, (written, got) in enumerate(zip(records, read, strict=True)):
        try:
            expected = resolve(written, writer, reader, writer_names, reader_names)
        except SchemaError as error:
            problems.append(f"{label}: sample {index}: {error}")
            continue
        if got != expected:
            problems.append(f"{label}: sample {index} read back as {got!r}, resolution promises {expected!r}")
    return problems


def named_types(schema: Schema, found: dict[str, Any] | None = None, namespace: str = "") -> dict[str, Any]:
    """Every named type (record, enum, fixed) of `schema`, by short and full name."""
    found = {} if found is None else found
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, found, namespace)
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in ("record", "enum", "fixed"):
            namespace = schema.get("namespace", namespace)
            found[schema["name"]] = found[f"{namespace}.{schema['name']}"] = schema
            for field in schema.get("fields", []):
                named_types(field["type"], found, namespace)
        elif kind == "array":
            named_types(schema["items"], found, namespace)
        elif kind == "map":
            named_types(schema["values"], found, namespace)
    return found


def _deref(schema: Schema, names: dict[str, Any]) -> Schema:
    if isinstance(schema, str) and schema in names:
        return names[schema]
    if isinstance(schema, dict) and schema["type"] not in ("record", "enum", "fixed", "array", "map"):
        return schema if "logicalType" in schema else schema["type"]
    return schema


def sample_value(schema: Schema, index: int, names: dict[str, Any]) -> Any:
    """A value of `schema`, different for each `index`; over the indexes, every union branch and enum symbol."""
    schema = _deref(schema, names)
    if isinstance(schema, list):
        return sample_value(schema[index % len(schema)], index // len(schema) + index, names)
    if isinstance(schema, dict):
        kind, logical = schema["type"], schema.get("logicalType")
        if logical:
            return _logical_sample(logical, index)
        if kind == "record":
            return {f["name"]: sample_value(f["type"], index + offset, names) for offset, f in enumerate(schema["fields"])}
        if kind == "enum":
            return schema["symbols"][index % len(schema["symbols"])]
        if kind == "array":
            return [sample_value(schema["items"], index + k, names) for k in range(index % 3)]
        if kind == "map":
            return {f"k{k}": sample_value(schema["values"], index + k, names) for k in range(index % 3)}
        if kind == "fixed":
            return bytes([index % 256]) * schema["size"]
    return _PRIMITIVES[schema](index)


_PRIMITIVES: dict[str, Callable[[int], Any]] = {
    "null": lambda index: None,
    "boolean": lambda index: index % 2 == 0,
    "int": lambda index: index * 7 - 20,
    "long": lambda index: index * 1_000_003,
    "float": lambda index: index / 4,
    "double": lambda index: index / 8,
    "string": lambda index: f"值{index}",
    "bytes": lambda index: bytes([index % 256, 255]),
}


def _logical_sample(logical: str, index: int) -> Any:
    if logical == "date":
        return _EPOCH_DAY + dt.timedelta(days=index * 37)
    if logical in ("timestamp-micros", "timestamp-millis"):
        return _EPOCH_TIME + dt.timedelta(seconds=index * 3601)
    if logical == "uuid":
        return uuid.UUID(int=index * 7919 + 1)
    raise SchemaError(f"no sample for logical type {logical}: add one to compatibility.py")


def resolve(value: Any, writer: Schema, reader: Schema, writer_names: dict[str, Any], reader_names: dict[str, Any]) -> Any:
    """What Avro's schema resolution promises a reader of `reader` gets for `value` written with `writer`."""
    writer, reader = _deref(writer, writer_names), _deref(reader, reader_names)
    if isinstance(writer, list):
        writer = _branch_of(value, writer, writer_names)
    if isinstance(reader, list):
        reader = _matching_branch(writer, reader, reader_names)
    if isinstance(reader, dict) and isinstance(writer, dict) and "logicalType" not in reader:
        return _resolve_complex(value, writer, reader, writer_names, reader_names)
    return value


def _resolve_complex(value: Any, writer: dict[str, Any], reader: dict[str, Any], wn: dict[str, Any], rn: dict[str, Any]) -> Any:
    kind = reader["type"]
    if kind == "record":
        written = {f["name"]: f for f in writer["fields"]}
        result = {}
        for field in reader["fields"]:
            name = field["name"]
            if name in written:
                result[name] = resolve(value[name], written[name]["type"], field["type"], wn, rn)
            elif "default" in field:
                result[name] = field["default"]
            else:
                raise SchemaError(f"field {name} is new and has no default")
        return result
    if kind == "enum":
        if value in reader["symbols"]:
            return value
        if "default" in reader:
            return reader["default"]
        raise SchemaError(f"enum {reader['name']} has no symbol {value} and no default")
    if kind == "array":
        return [resolve(item, writer["items"], reader["items"], wn, rn) for item in value]
    if kind == "map":
        return {key: resolve(item, writer["values"], reader["values"], wn, rn) for key, item in value.items()}
    return value


def _kind(schema: Schema) -> str:
    if isinstance(schema, dict):
        return str(schema.get("name") or schema.get("logicalType") or schema["type"])
    return str(schema)


def _branch_of(value: Any, union: list[Any], names: dict[str, Any]) -> Schema:
    """The branch of the writer's union that `value` was written as (samples are unambiguous per union here)."""
    for branch in union:
        branch = _deref(branch, names)
        if value is None and branch == "null":
            return branch
        if value is not None and branch != "null":
            return branch
    raise SchemaError(f"value {value!r} fits no branch of {union}")


def _matching_branch(writer: Schema, union: list[Any], names: dict[str, Any]) -> Schema:
    for branch in union:
        if _kind(_deref(branch, names)) == _kind(writer):
            return _deref(branch, names)
    raise SchemaError(f"the reader's union has no branch for {_kind(writer)}")
