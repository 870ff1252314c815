"""A fast Avro binary encoder for the change-set schema, built once per schema and subscription.

fastavro spends most of its time choosing union branches (it validates the value against each branch); the
change-set schema is almost all `["null", T]` unions, so a record of it costs about 80 µs there. This encoder is
built from the schema's JSON into closures, one per field, with the union branch chosen by `None` or not, and
with the Person fields a subscriber may not see encoded once, as the constant bytes of their default (null).
It covers what the change-set schemas use: records, `["null", T]` unions, enums, arrays, strings, ints, longs,
and the logical types date, timestamp-micros and uuid; anything else is refused when the encoder is built.
Tests check it byte for byte against fastavro's `schemaless_writer` on varied records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from schemas.errors import SchemaError

Encode = Callable[[Any], bytes]
_EPOCH_DAY = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SMALL = tuple(bytes([n << 1]) for n in range(64))  # zig-zag varints of 0..63: one byte each
PRESENT_SMALL = tuple(b"\x02" + small for small in _SMALL)  # the same after a union's branch 1 (not null)


def long_bytes(value: int) -> bytes:
    """Avro's long: zig-zag, then base-128 varint (the usual sizes unrolled)."""
    if 0 <= value < 64:
        return _SMALL[value]
    number = (value << 1) ^ (value >> 63)
    if number < 0x80:
        return bytes((number,))
    if number < 0x4000:
        return bytes((number & 0x7F | 0x80, number >> 7))
    if number < 0x200000:
        return bytes((number & 0x7F | 0x80, number >> 7 & 0x7F | 0x80, number >> 14))
    if number < 0x10000000:
        return bytes((number & 0x7F | 0x80, number >> 7 & 0x7F | 0x80, number >> 14 & 0x7F | 0x80, number >> 21))
    if 0x2000000000000 <= number < 0x100000000000000:  # 8 groups: a timestamp in µs, one in every record
        return bytes(
            (
                number & 0x7F | 0x80,
                number >> 7 & 0x7F | 0x80,
                number >> 14 & 0x7F | 0x80,
                number >> 21 & 0x7F | 0x80,
                number >> 28 & 0x7F | 0x80,
                number >> 35 & 0x7F | 0x80,
                number >> 42 & 0x7F | 0x80,
                number >> 49,
            )
        )
    groups = bytearray()
    while number >= 0x80:
        groups.append(number & 0x7F | 0x80)
        number >>= 7
    groups.append(number)
    return bytes(groups)


def string_bytes(value: str) -> bytes:
    data = value.encode("utf-8")
    size = len(data)
    return (_SMALL[size] if size < 64 else long_bytes(size)) + data


def _present_string(value: str) -> bytes:
    """Branch 1 of a ["null", "string"] union, then the string: the commonest thing in a change set."""
    data = value.encode("utf-8")
    size = len(data)
    return (PRESENT_SMALL[size] if size < 64 else b"\x02" + long_bytes(size)) + data


def _present_long(value: int) -> bytes:
    return PRESENT_SMALL[value] if 0 <= value < 64 else b"\x02" + long_bytes(value)


def _date_bytes(value: dt.date | int) -> bytes:
    return long_bytes(value if isinstance(value, int) else (value - _EPOCH_DAY).days)


def _timestamp_micros(value: dt.datetime | int) -> bytes:
    if isinstance(value, int):
        return long_bytes(value)
    delta = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)) - _EPOCH
    return long_bytes((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _uuid_bytes(value: Any) -> bytes:
    return string_bytes(str(value))


_LOGICAL = ("date", "timestamp-micros", "uuid")


class RecordEncoder:
    """Encoders for a schema's records, generated as Python source (one function per record, fields inlined);
    `shown` limits a record's fields to those named, the others being written as their default."""

    def __init__(self, schema: Mapping[str, Any], shown: Mapping[str, Collection[str]] | None = None) -> None:
        self.shown = dict(shown or {})
        self.namespace: dict[str, Any] = {
            "S": string_bytes,
            "L": long_bytes,
            "PS": _present_string,
            "PL": _present_long,
            "A": _array,
            "AS": _string_array,
            **_LOGICAL_NAMES,
        }
        self.source: list[str] = []
        self._counter = 0
        top = self._expression(schema, "record")
        exec("\n".join(self.source), self.namespace)  # noqa: S102 - source generated above from the schema alone
        self.encode: Encode = eval(f"lambda record: {top}", self.namespace)  # noqa: S307

    def expression(self, schema: Any, value: str) -> str:
        """A Python expression encoding `value` (a variable name) as `schema`, over the names of `namespace`
        (for code generated elsewhere: mmi.exchange.projection)."""
        return self._expression(schema, value)

    def constant(self, data: bytes) -> str:
        """A name in `namespace` bound to the constant `data`."""
        return self._code(data)

    def _expression(self, schema: Any, value: str) -> str:
        """A Python expression encoding `value` (a variable name) as `schema`."""
        if isinstance(schema, str):
            if schema in ("string", "long", "int"):
                return f"{'S' if schema == 'string' else 'L'}({value})"
            if f"R_{schema}" in self.namespace or f"E_{schema}" in self.namespace:
                return f"R_{schema}({value})" if f"R_{schema}" in self.namespace else f"E_{schema}[{value}]"
            raise SchemaError(f"the change-set encoder does not handle type {schema!r}")
        if isinstance(schema, list):
            if len(schema) != 2 or schema[0] != "null":
                raise SchemaError(f"the change-set encoder handles unions of null and one type, not {schema}")
            variable = self._variable()
            present = {"string": "PS({})", "long": "PL({})", "int": "PL({})"}.get(schema[1]) if isinstance(schema[1], str) else None
            inner = present.format(variable) if present else f"b'\\x02' + {self._expression(schema[1], variable)}"
            return f"(b'\\x00' if ({variable} := {value}) is None else {inner})"
        if schema.get("logicalType") in _LOGICAL:
            return f"{_LOGICAL_NAMES_BY_TYPE[schema['logicalType']]}({value})"
        kind = schema["type"]
        if kind == "record":
            return f"{self._record(schema)}({value})"
        if kind == "enum":
            self.namespace[f"E_{schema['name']}"] = {symbol: long_bytes(index) for index, symbol in enumerate(schema["symbols"])}
            return f"E_{schema['name']}[{value}]"
        if kind == "array":
            variable = self._variable()
            item = self._expression(schema["items"], "item")
            direct = item[: -len("(item)")] if item.endswith("(item)") and item.count("(") == 1 else None  # S(item) → S
            if direct == "S":
                return f"(b'\\x00' if not ({variable} := {value}) else AS({variable}))"
            return f"(b'\\x00' if not ({variable} := {value}) else A({variable}, {direct or f'lambda item: {item}'}))"
        return self._expression(kind, value)

    def _record(self, schema: dict[str, Any]) -> str:
        name = f"R_{schema['name']}"
        self.namespace[name] = None  # known from here on, for references to it by name
        shown = self.shown.get(schema["name"])
        parts: list[str | bytes] = []  # expressions, and constant bytes for the fields not shown
        for field in schema["fields"]:
            expression = self._expression(field["type"], f"get({field['name']!r})")
            if shown is None or field["name"] in shown:
                parts.append(expression)
                continue
            default = field.get("default")
            constant = eval(f"lambda get: {expression}", self.namespace)(lambda _key, value=default: value)  # noqa: S307
            parts[-1:] = [parts[-1] + constant] if parts and isinstance(parts[-1], bytes) else [*parts[-1:], constant]
        self.source.append(f"def {name}(record):\n    get = record.get\n    return b''.join(({', '.join(map(self._code, parts))},))\n")
        return name

    def _code(self, part: str | bytes) -> str:
        if isinstance(part, str):
            return part
        self._counter += 1
        self.namespace[f"C{self._counter}"] = part
        return f"C{self._counter}"

    def _variable(self) -> str:
        self._counter += 1
        return f"v{self._counter}"


def _array(values: Any, item: Encode) -> bytes:
    """A non-empty array: its count, the items, and the closing empty block."""
    return long_bytes(len(values)) + b"".join([item(value) for value in values]) + b"\x00"


def _string_array(values: Any) -> bytes:
    parts = [long_bytes(len(values))]
    for value in values:
        data = value.encode("utf-8")
        size = len(data)
        parts += (_SMALL[size] if size < 64 else long_bytes(size), data)
    parts.append(b"\x00")
    return b"".join(parts)


_LOGICAL_NAMES = {"D": _date_bytes, "T": _timestamp_micros, "U": _uuid_bytes}
_LOGICAL_NAMES_BY_TYPE = {"date": "D", "timestamp-micros": "T", "uuid": "U"}
