"""Projection and encoding fused: one function per subscription from an outbox event straight to the bytes of its
Avro change-event record (or None when the event is not sent to it), with no datum in between.

`routing.Projector` builds the record as a dict and `encoder.RecordEncoder` walks that dict again: two passes, a
dict and a `get` per field, a call per value. Here what depends only on the subscription is worked out once (its
fields, their Person positions and types, the constant bytes of the fields it may not see) and generated as
Python source, one function per subscription: it reads the person's values before and after, compares them,
encodes the Person records, groups and encodes the lineage of the listed fields, and writes the rest of the record
in schema order, with no call or loop per field that the schema and the subscription decide. It gives exactly the bytes of
`RecordEncoder(Projector(event))` (the tests compare the two, and both with fastavro) and is used only for the
record layout it was written for: `compiled()` returns None for any other schema, and the publisher then takes
the two-pass way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any

import msgspec

from mmi.exchange.encoder import PRESENT_SMALL, RecordEncoder
from mmi.exchange.routing import DATE_FIELDS, OutboxEvent
from mmi.exchange.subscriptions import Subscription
from schemas.changeset import schema_json, shareable_fields
from schemas.lineage import Lineage, read_lineage

Deliver = Callable[[OutboxEvent], "bytes | None"]
# The change-event record this module writes, field by field (schemas/changeset/v2.avsc and any later version
# that keeps it): a schema whose top-level fields differ is left to the two-pass encoder.
LAYOUT = (
    "event_id",
    "outbox_seq",
    "operation",
    "master_id",
    "related_ids",
    "person_before",
    "person_after",
    "changed_fields",
    "lineage",
    "own_records_before",
    "own_records_after",
    "run_id",
    "model_version_id",
    "occurred_at",
    "jurisdiction_change",
)
SOURCE_LAYOUT = ("fields", "department", "source_key", "version", "record_id", "rule")


@cache
def compiled(version: int, subscription: Subscription) -> Deliver | None:
    """The fused projector-encoder of `subscription` for schema `version`, or None if the layout is not LAYOUT."""
    schema = schema_json(version)
    if tuple(field["name"] for field in schema["fields"]) != LAYOUT:
        return None
    types = {field["name"]: field["type"] for field in schema["fields"]}
    source = types["lineage"]["items"]
    if tuple(field["name"] for field in source["fields"]) != SOURCE_LAYOUT:
        return None
    person = types["person_before"]
    if not (isinstance(person, list) and isinstance(person[1], dict) and person[1].get("name") == "Person"):
        return None
    encoder = RecordEncoder(schema, shown={"Person": set(subscription.fields)})
    golden = _golden_reader(shareable_fields(version))
    return _deliverer(subscription, encoder, person[1], golden)


def _golden_reader(fields: tuple[str, ...]) -> Callable[[OutboxEvent, str], Any]:
    """(event, column) → the golden record as a struct of the schema's Person fields (any JSON value each, None
    when absent), decoded once per event and column. A struct, not a dict: about three times faster to decode."""
    golden = msgspec.defstruct("Golden", [(name, Any, None) for name in fields], gc=False)
    decode = msgspec.json.Decoder(golden).decode

    def read(event: OutboxEvent, column: str) -> Any:
        cache = event._decoded
        if (key := f"{column}:struct") not in cache:
            raw = event.row[column]
            try:
                cache[key] = decode(raw) if raw else None
            except msgspec.ValidationError:  # not an object of those fields: the dict path raises as it always did
                loose = event.json(column)
                cache[key] = golden(**{name: loose.get(name) for name in fields})
        return cache[key]

    return read


def _read_lineage(event: OutboxEvent) -> Lineage | None:
    """The event's lineage (schemas.lineage.read_lineage), read once per event for every subscriber."""
    cache = event._decoded
    if (found := cache.get("lineage:read", _UNREAD)) is _UNREAD:
        raw = event.row["lineage"]
        found = cache["lineage:read"] = read_lineage(raw) if raw else None
    return found


_UNREAD = object()


def _person_lines(subscription: Subscription, encoder: RecordEncoder, person: dict[str, Any]) -> list[str]:
    """Generated: from the golden structs `b` and `a` (or None), the Person bytes `pb` and `pa` and `changed`, the
    listed fields whose value differs."""
    fields = person["fields"]
    shown = set(subscription.fields)
    listed = [field["name"] for field in fields if field["name"] in shown]
    lines = []
    for side in ("b", "a"):
        lines.append(f"if {side} is None:")
        lines.append("    " + " = ".join(f"{side}{index}" for index in range(len(listed))) + " = None")
        lines.append("else:")
        for index, name in enumerate(listed):
            lines.append(f"    {side}{index} = {side}.{name}")
            if name in DATE_FIELDS:
                lines.append(f"    if isinstance({side}{index}, str): {side}{index} = FROMISO({side}{index})")
    comparisons = ", ".join(f"({name!r}, b{index}, a{index})" for index, name in enumerate(listed))
    lines.append(f"changed = [name for name, x, y in ({comparisons},) if x != y]")
    for side in ("b", "a"):
        parts: list[str] = []
        constant = b""
        for field in fields:
            if field["name"] in shown:
                if constant:
                    parts.append(encoder.constant(constant))
                    constant = b""
                parts.append(encoder.expression(field["type"], f"{side}{listed.index(field['name'])}"))
            else:
                constant += _default_bytes(encoder, field)
        if constant:
            parts.append(encoder.constant(constant))
        lines.append(f"p{side} = b'\\x00' if {side} is None else b''.join((b'\\x02', {', '.join(parts)}))")
    return lines


def _default_bytes(encoder: RecordEncoder, field: dict[str, Any]) -> bytes:
    default = field.get("default")
    expression = encoder.expression(field["type"], "value")
    return bytes(eval(f"lambda value: {expression}", encoder.namespace)(default))  # noqa: S307 - generated from the schema


def _lineage_lines(fields: tuple[str, ...]) -> list[str]:
    """Generated: from the event's lineage `lin` (schemas.lineage.Lineage, or None), `lineage`, the bytes of the
    lineage array: one FieldSource per distinct source version and rule, with the fields it supplied, in the order
    of the fields (as routing.Projector groups them)."""
    lines = ["grouped = {}", "if lin is not None:", "    index, rules = lin.fields, lin.rules"]
    for name in fields:
        lines.append(f"    if (i := index.get({name!r})) is not None:")
        lines.append(f"        if (names := grouped.get(key := (i, rules.get({name!r})))) is None: grouped[key] = [{name!r}]")
        lines.append(f"        else: names.append({name!r})")
    lines += [
        "if grouped:",
        "    parts = [L(len(grouped))]",
        "    sources = lin.sources",
        "    for (i, rule), names in grouped.items():",
        "        if (listed := FIELDS_BYTES.get(key := tuple(names))) is None: listed = FIELDS_BYTES[key] = AS(names)",
        "        department, source_key, version, record_id = sources[i]",
        "        parts += (",
        "            listed,",
        "            WORDS[department] if department in WORDS else WORD(department),",
        "            b'\\x00' if source_key is None else PS(source_key),",
        "            b'\\x00' if version is None else PRESENT_SMALL[version] if 0 <= version < 64 else b'\\x02' + L(version),",
        "            b'\\x00' if record_id is None else PRESENT_SMALL[record_id] if 0 <= record_id < 64 else b'\\x02' + L(record_id),",
        "            WORDS[rule] if rule in WORDS else WORD(rule),",
        "        )",
        "    parts.append(b'\\x00')",
        "    lineage = b''.join(parts)",
        "else:",
        "    lineage = b'\\x00'",
    ]
    return lines


# The record after the Person parts, as generated source: every name is bound in `_deliverer`'s namespace.
_RECORD = """\
def deliver(event):
    district_after, district_before = event.district_after, event.district_before
    now = district_after is not None and district_after.startswith(JURISDICTION)
    was = district_before is not None and district_before.startswith(JURISDICTION)
    if not (now or was):
        return None
    row = event.row
    b, a = GOLDEN(event, "golden_before"), GOLDEN(event, "golden_after")
{person}
    records_before, records_after = row["records_before"], row["records_after"]
    own_before = OWN_RECORDS(event, "records_before") if records_before and OWN in records_before else NONE
    own_after = OWN_RECORDS(event, "records_after") if records_after and OWN in records_after else NONE
    crossing = None if (was == now or not row["golden_before"] or not row["golden_after"]) else (MOVED_IN if now else MOVED_OUT)
    operation = row["operation"]
    if operation == "update" and not changed and own_before == own_after and crossing is None:
        return None
    lin = LINEAGE(event)
{lineage}
    related = row["related"]
    return b"".join(
        (
            S(str(row["event_id"])),
            L(row["seq"]),
            OPERATIONS[operation],
            S(row["master_id"]),
            b"\\x00" if not related or related == "[]" or not (ids := event.json("related")) else AS(ids),
            pb,
            pa,
            b"\\x00" if not changed else AS(changed),
            lineage,
            b"\\x00" if not own_before else AS(own_before),
            b"\\x00" if not own_after else AS(own_after),
            L(row["run_id"]),
            L(row["model_version_id"]),
            T(row["occurred_at"]),
            b"\\x00" if crossing is None else crossing,
        )
    )
"""


def _deliverer(
    subscription: Subscription,
    encoder: RecordEncoder,
    person: dict[str, Any],
    golden: Callable[[OutboxEvent, str], Any],
) -> Deliver:
    """One generated function: the record, field by field in LAYOUT order, with the Person parts and the lineage
    written out for the subscription's fields (no call, loop or lookup per field that the schema decides)."""
    indent = "    "
    source = _RECORD.format(  # first: the Person parts add their constants to the encoder's namespace
        person="\n".join(indent + line for line in _person_lines(subscription, encoder, person)),
        lineage="\n".join(indent + line for line in _lineage_lines(subscription.fields)),
    )
    ns = encoder.namespace
    crossings = ns["E_JurisdictionChange"]
    words: dict[str | None, bytes] = {None: b"\x00"}  # departments and rules: a handful of values, written again and again

    def word(value: str) -> bytes:
        if len(words) > 4096:
            words.clear()
            words[None] = b"\x00"
        known = words[value] = ns["PS"](value)
        return known

    namespace = dict(ns) | {
        "FROMISO": dt.date.fromisoformat,
        "JURISDICTION": subscription.jurisdiction,
        "GOLDEN": golden,
        "LINEAGE": _read_lineage,
        "OWN": f"{subscription.department}|",
        "OWN_RECORDS": _own_records(subscription.department),
        "NONE": [],
        "MOVED_IN": b"\x02" + crossings["moved_in"],
        "MOVED_OUT": b"\x02" + crossings["moved_out"],
        "OPERATIONS": ns["E_Operation"],
        "PRESENT_SMALL": PRESENT_SMALL,
        "FIELDS_BYTES": {},  # the fields arrays of the lineage: a few groupings recur
        "WORDS": words,
        "WORD": word,
    }
    exec(source, namespace)  # noqa: S102 - source generated above from the schema and the subscription alone
    deliver: Deliver = namespace["deliver"]
    return deliver


def _own_records(department: str) -> Callable[[OutboxEvent, str], list[str]]:
    """(event, column) → the keys of the department's own records in it, without the department (called only when
    the department's name is in the column's text)."""
    own = f"{department}|"
    size = len(own)

    def own_records(event: OutboxEvent, column: str) -> list[str]:
        return sorted(key[size:] for key in event.json(column) if key.startswith(own))

    return own_records
