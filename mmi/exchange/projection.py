"""Projection and encoding fused: one function per subscription from an outbox event straight to the bytes of its
Avro change-event record (or None when the event is not sent to it), with no datum in between.

`routing.Projector` builds the record as a dict and `encoder.RecordEncoder` walks that dict again: two passes, a
dict and a `get` per field, a call per value. Here what depends only on the subscription is worked out once (its
fields, their Person positions and types, the constant bytes of the fields it may not see) and generated as
Python source: one function that reads the person's values before and after, compares them, and encodes the
Person records, and a closure that writes the rest of the record in schema order. It gives exactly the bytes of
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

from mmi.exchange.encoder import RecordEncoder, long_bytes
from mmi.exchange.routing import DATE_FIELDS, OutboxEvent, Source
from mmi.exchange.subscriptions import Subscription
from schemas.changeset import schema_json, shareable_fields

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
_NO_SOURCES = b"\x00"  # an empty array


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
    return _deliverer(
        subscription, encoder, _person_function(subscription, encoder, person[1]), golden, _sources_reader(subscription.fields)
    )


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


def _sources_reader(fields: tuple[str, ...]) -> Callable[[OutboxEvent], Any]:
    """event → the lineage of `fields` only (a struct: name → Source or None); the other fields' entries are
    skipped unread. Leniently decoded, as routing's lineage is, when an entry does not match Source exactly."""
    sources = msgspec.defstruct("Sources", [(name, Source | None, None) for name in fields], gc=False)
    decode = msgspec.json.Decoder(sources).decode
    key = f"lineage:{','.join(fields)}"

    def read(event: OutboxEvent) -> Any:
        cache = event._decoded
        if key not in cache:
            raw = event.row["lineage"]
            try:
                cache[key] = decode(raw) if raw else None
            except msgspec.ValidationError:
                loose = event.json("lineage") or {}
                cache[key] = sources(**{name: loose.get(name) for name in fields})
        return cache[key]

    return read


def _person_function(subscription: Subscription, encoder: RecordEncoder, person: dict[str, Any]) -> Callable[..., Any]:
    """Generated: (golden before, golden after) → (Person bytes before, after, the changed listed fields)."""
    fields = person["fields"]
    shown = set(subscription.fields)
    listed = [field["name"] for field in fields if field["name"] in shown]
    lines = ["def person(b, a):"]
    for side in ("b", "a"):
        lines.append(f"    if {side} is None:")
        lines.append("        " + " = ".join(f"{side}{index}" for index in range(len(listed))) + " = None")
        lines.append("    else:")
        for index, name in enumerate(listed):
            lines.append(f"        {side}{index} = {side}.{name}")
            if name in DATE_FIELDS:
                lines.append(f"        if isinstance({side}{index}, str): {side}{index} = FROMISO({side}{index})")
    comparisons = ", ".join(f"({name!r}, b{index}, a{index})" for index, name in enumerate(listed))
    lines.append(f"    changed = [name for name, x, y in ({comparisons},) if x != y]")
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
        lines.append(f"    p{side} = b'\\x00' if {side} is None else b''.join((b'\\x02', {', '.join(parts)}))")
    lines.append("    return pb, pa, changed")
    namespace = dict(encoder.namespace) | {"FROMISO": dt.date.fromisoformat}
    exec("\n".join(lines), namespace)  # noqa: S102 - source generated above from the schema and the subscription alone
    function: Callable[..., Any] = namespace["person"]
    return function


def _default_bytes(encoder: RecordEncoder, field: dict[str, Any]) -> bytes:
    default = field.get("default")
    expression = encoder.expression(field["type"], "value")
    return bytes(eval(f"lambda value: {expression}", encoder.namespace)(default))  # noqa: S307 - generated from the schema


def _deliverer(
    subscription: Subscription,
    encoder: RecordEncoder,
    person: Callable[..., Any],
    golden: Callable[[OutboxEvent, str], Any],
    read_sources: Callable[[OutboxEvent], Any],
) -> Deliver:
    """The record, field by field in LAYOUT order, around the generated Person part."""
    ns = encoder.namespace
    string, string_array, timestamp = ns["S"], ns["AS"], ns["T"]
    operations, crossings = ns["E_Operation"], ns["E_JurisdictionChange"]
    moved_in, moved_out = b"\x02" + crossings["moved_in"], b"\x02" + crossings["moved_out"]
    jurisdiction = subscription.jurisdiction
    own_records = _own_records(subscription.department)
    lineage = _lineage_encoder(subscription.fields, ns)

    def deliver(event: OutboxEvent) -> bytes | None:
        after_district, before_district = event.district_after, event.district_before
        now = after_district is not None and after_district.startswith(jurisdiction)
        was = before_district is not None and before_district.startswith(jurisdiction)
        if not (now or was):
            return None
        row = event.row
        person_before, person_after, changed = person(golden(event, "golden_before"), golden(event, "golden_after"))
        own_before, own_after = own_records(event, "records_before"), own_records(event, "records_after")
        crossing = None if (was == now or not row["golden_before"] or not row["golden_after"]) else (moved_in if now else moved_out)
        operation = row["operation"]
        if operation == "update" and not changed and own_before == own_after and crossing is None:
            return None
        related = row["related"]
        return b"".join(
            (
                string(str(row["event_id"])),
                long_bytes(row["seq"]),
                operations[operation],
                string(row["master_id"]),
                b"\x00" if not related or related == "[]" or not (ids := event.json("related")) else string_array(ids),
                person_before,
                person_after,
                b"\x00" if not changed else string_array(changed),
                lineage(read_sources(event)),
                b"\x00" if not own_before else string_array(own_before),
                b"\x00" if not own_after else string_array(own_after),
                long_bytes(row["run_id"]),
                long_bytes(row["model_version_id"]),
                timestamp(row["occurred_at"]),
                b"\x00" if crossing is None else crossing,
            )
        )

    return deliver


def _own_records(department: str) -> Callable[[OutboxEvent, str], list[str]]:
    """(event, column) → the keys of the department's own records in it, without the department; the JSON list is
    decoded only when the department's name is in it."""
    own = f"{department}|"
    size = len(own)

    def own_records(event: OutboxEvent, column: str) -> list[str]:
        raw = event.row[column]
        if not raw or own not in raw:
            return []
        return sorted(key[size:] for key in event.json(column) if key.startswith(own))

    return own_records


def _lineage_encoder(fields: tuple[str, ...], ns: dict[str, Any]) -> Callable[[Any], bytes]:
    """The lineage array of `fields`: one FieldSource per distinct source, with the fields it supplied, in the
    order of the fields (as routing.Projector groups them)."""
    present_string, present_long, string_array = ns["PS"], ns["PL"], ns["AS"]
    names_bytes: dict[tuple[str, ...], bytes] = {}  # the fields arrays: a few groupings recur
    words: dict[str, bytes] = {}  # departments and rules: a handful of values, written again and again

    def word(value: str | None) -> bytes:
        if value is None:
            return b"\x00"
        if (known := words.get(value)) is None:
            if len(words) > 4096:
                words.clear()
            known = words[value] = present_string(value)
        return known

    def lineage(sources: Any) -> bytes:
        grouped: dict[Any, list[str]] = {}
        for name in fields if sources is not None else ():
            if (found := getattr(sources, name)) is not None:
                grouped.setdefault(found, []).append(name)
        if not grouped:
            return _NO_SOURCES
        parts = [long_bytes(len(grouped))]
        for found, names in grouped.items():
            if (listed := names_bytes.get(key := tuple(names))) is None:
                listed = names_bytes[key] = string_array(names)
            parts += (
                listed,
                word(found.department),
                b"\x00" if found.source_key is None else present_string(found.source_key),
                b"\x00" if found.version is None else present_long(found.version),
                b"\x00" if found.record_id is None else present_long(found.record_id),
                word(found.rule),
            )
        parts.append(b"\x00")
        return b"".join(parts)

    return lineage
