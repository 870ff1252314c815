"""Lineage: the source version each golden value came from and the rule that chose it, as stored in
`master_record.lineage` and `master_event.lineage` (JSON text), and read back by the exchange and the auditors.

Format 2, written since 2026-12: each source version once, each field naming its source by position in that list,
and the rules by the rule set the values were chosen under (schemas.golden.RULE_SETS holds every set's texts):

    {"rules":"1","sources":[["health","H1",2,17],["public_security","GA1",1,5]],"fields":{"name":1,…,"ethnicity":null}}

Each source is [department, source_key, version, record_id], sorted, so that the same choices always give the same
text (runs compare lineage as text). Format 1 spelt out, for every field, its source and its rule's full text:

    {"name":{"department":"public_security","source_key":"GA1","version":1,"record_id":5,"rule":"trust …"},…}

which is 2.6 KB a master where format 2 is about 0.4 KB; a master and its event each carry one, and that volume was
most of what a first link wrote. Stores linked before keep their format-1 rows (the audit log's digests are of
them as stored); `field_sources` reads both, and a full link run rewrites a master's lineage in format 2 (without
an event: the values did not change).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import msgspec

from schemas.errors import MMIError
from schemas.golden import CURRENT_RULE_SET, RULE_SETS


class Source(msgspec.Struct, frozen=True, gc=False):
    """One golden field's source: the source record version and the rule's text (other keys are ignored)."""

    department: str | None = None
    source_key: str | None = None
    version: int | None = None
    record_id: int | None = None
    rule: str | None = None


class Lineage(NamedTuple):
    """Lineage of either format, read into format 2's shape: the distinct source versions (department, source_key,
    version, record_id), each field's position among them (None: no value) and each field's rule text."""

    sources: list[tuple[Any, ...]]
    fields: dict[str, int | None]
    rules: Mapping[str, str | None]


class _Compact(msgspec.Struct, gc=False):
    rules: str
    sources: list[tuple[str, str, int, int]]
    fields: dict[str, int | None]


_COMPACT_PREFIX = '{"rules":'
_decode_compact = msgspec.json.Decoder(_Compact).decode
_decode_spelt_out = msgspec.json.Decoder(dict[str, Source | None]).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def read_lineage(text: str) -> Lineage:
    """The lineage in `text` (either format). Format 2 is decoded as it is, its rules' texts looked up by rule set
    (the exchange reads every event's: no Source per field is made); format 1 is gathered into the same shape."""
    if text.startswith(_COMPACT_PREFIX):
        compact = _decode_compact(text)
        rules = RULE_SETS.get(compact.rules)
        if rules is None:
            raise MMIError(
                f"lineage names survivorship rule set {compact.rules!r}, which this version of mmi does not know: it was"
                " written by a newer one; read it with that version"
            )
        return Lineage(compact.sources, compact.fields, rules)  # type: ignore[arg-type]
    spelt_out = _spelt_out(text)
    positions: dict[tuple[Any, ...], int] = {}  # each distinct source version, in the order first met
    fields: dict[str, int | None] = {}
    for name, source in spelt_out.items():
        version = None if source is None else (source.department, source.source_key, source.version, source.record_id)
        fields[name] = None if version is None else positions.setdefault(version, len(positions))
    return Lineage(list(positions), fields, {name: source.rule for name, source in spelt_out.items() if source is not None})


def field_sources(text: str, fields: Collection[str] | None = None) -> dict[str, Source | None]:
    """Field → its Source (None: the field has no value), from lineage text of either format; only `fields` if
    given. An entry of format 1 that is not a source object reads as None, as it always did."""
    if not text.startswith(_COMPACT_PREFIX):
        spelt_out = _spelt_out(text)
        return spelt_out if fields is None else {name: spelt_out.get(name) for name in fields}
    lineage = read_lineage(text)
    wanted = lineage.fields if fields is None else fields
    made: dict[tuple[int, str | None], Source] = {}  # fields of one source and rule share their Source
    found: dict[str, Source | None] = {}
    for name in wanted:
        position = lineage.fields.get(name)
        if position is None:
            found[name] = None
            continue
        key = (position, lineage.rules.get(name))
        if (source := made.get(key)) is None:
            department, source_key, version, record_id = lineage.sources[position]
            source = made[key] = Source(department, source_key, version, record_id, key[1])
        found[name] = source
    return found


def _spelt_out(text: str) -> dict[str, Source | None]:
    """Format 1; an entry that is not a source object reads as None, as it always did."""
    try:
        return _decode_spelt_out(text)
    except msgspec.ValidationError:  # value types off: read leniently
        return {
            name: Source(**{key: source.get(key) for key in Source.__struct_fields__}) if isinstance(source, dict) else None
            for name, source in _decode_any(text).items()
        }


def compact_lineage(sources: Mapping[str, tuple[str, str, int, int] | None], rules: str = CURRENT_RULE_SET) -> str:
    """Format 2's text for field → (department, source_key, version, record_id) or None: the very text
    mmi.index.golden's SQL writes (tests hold the two equal); for tests and benchmarks that build an outbox."""
    distinct = sorted({source for source in sources.values() if source is not None})
    position = {source: index for index, source in enumerate(distinct)}
    document: dict[str, Any] = {
        "rules": rules,
        "sources": [list(source) for source in distinct],
        "fields": {name: None if source is None else position[source] for name, source in sources.items()},
    }
    return _encode(document).decode("utf-8")
