"""What a run changes in the index, and the events that say so, from the new clusters and the index's state.

Events come from two sources:
- membership (linkage.master_ids): create, split, merge, update (records joined or left), retire;
- golden values: a master whose records stayed the same but whose golden record changed (a new phone in a
  newer source version) gets an update event naming the changed fields.
A master whose only change is where a value came from (the same value, now from a newer source version) has its
lineage updated without an event: subscribers see values, auditors see lineage.

Golden records are compared as JSON text inside the workspace (mmi.index.golden); only changed masters come out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import msgspec
import pyarrow as pa

from linkage.master_ids import MasterEvent
from mmi.index.golden import GOLDEN_FIELDS, stage_golden_records
from mmi.index.staging import ASSIGNMENT, GOLDEN_CHANGED, GOLDEN_NEXT, XREF_CHANGES


@dataclass
class IndexChanges:
    """The events, and the masters retired; the master rows to insert and update stay in the workspace
    (`golden_changed`), where the writer streams them from: a first run creates as many masters as there are people."""

    retired: dict[str, str | None] = field(default_factory=dict)  # master → the master it lives on in, if any
    # master_event rows, without run, model and lineage: the writer takes each event's lineage from GOLDEN_NEXT as
    # it streams them (event_lineage), so a first run's lineages, 2-3 KB a master, never all sit in memory.
    events: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # link_conflict rows, without run and model
    conflict_scope: list[str] | None = None  # the records whose stored conflicts they replace (None: all)


def compose_changes(duck: duckdb.DuckDBPyConnection, master_of: Mapping[str, str], membership: list[MasterEvent]) -> IndexChanges:
    """The index changes and events of a run that assigned `master_of` (every reclustered record → master), with
    the membership events linkage.master_ids gave."""
    _stage_assignment(duck, master_of)
    stage_golden_records(duck, "golden_inputs", ASSIGNMENT, GOLDEN_NEXT)
    duck.execute(f"""
        CREATE OR REPLACE TABLE {GOLDEN_CHANGED} AS
        SELECT n.*, g.master_id IS NULL AS is_new, g.golden_json AS previous_json
        FROM {GOLDEN_NEXT} n LEFT JOIN golden g USING (master_id)
        WHERE g.master_id IS NULL OR n.golden_json <> g.golden_json OR n.lineage <> g.lineage OR n.record_count <> g.record_count
    """)
    changes = IndexChanges()
    explained = pa.table({"master_id": pa.array(sorted({event.master_id for event in membership}), pa.string())})  # noqa: F841
    duck.execute("CREATE OR REPLACE TEMP TABLE explained AS SELECT * FROM explained")
    before = dict(duck.execute("SELECT master_id, golden_json FROM golden JOIN explained USING (master_id)").fetchall())
    after = dict(duck.execute(f"SELECT master_id, golden_json FROM {GOLDEN_NEXT} JOIN explained USING (master_id)").fetchall())
    for event in membership:
        changes.events.append(_membership_event(event, before.get(event.master_id), after.get(event.master_id)))
        if event.operation == "retire":
            changes.retired[event.master_id] = event.related[0] if event.related else None
    value_changes = duck.execute(f"""SELECT master_id, previous_json, golden_json FROM {GOLDEN_CHANGED}
        WHERE NOT is_new AND golden_json <> previous_json AND master_id NOT IN (SELECT master_id FROM explained)""").fetchall()
    members = _members(master_of, {master for master, *_ in value_changes})
    for master, previous, values in value_changes:
        records = sorted(members[master])
        changes.events.append(_event("update", master, (), records, records, previous, values))
    return changes


def event_lineage(duck: duckdb.DuckDBPyConnection, events: list[dict[str, Any]]) -> list[str]:
    """Each event's lineage: its master's golden record's (GOLDEN_NEXT), or none for a master retired."""
    living = pa.table({"master_id": pa.array(sorted({e["master_id"] for e in events if e["operation"] != "retire"}), pa.string())})  # noqa: F841
    lineage = dict(duck.execute(f"SELECT master_id, lineage FROM {GOLDEN_NEXT} JOIN living USING (master_id)").fetchall())
    return ["{}" if event["operation"] == "retire" else lineage.get(event["master_id"], "{}") for event in events]


def _membership_event(event: MasterEvent, before: str | None, after: str | None) -> dict[str, Any]:
    if event.operation in ("create", "split"):
        before = None
    if event.operation == "retire":
        after = None
    return _event(event.operation, event.master_id, event.related, sorted(event.before), sorted(event.after), before, after)


def _event(
    operation: str,
    master: str,
    related: Iterable[str],
    records_before: list[str],
    records_after: list[str],
    before: str | None,
    after: str | None,
) -> dict[str, Any]:
    values_before, values_after = _decode_golden(before) if before else _NONE, _decode_golden(after) if after else _NONE
    changed = [name for name in GOLDEN_FIELDS if getattr(values_before, name) != getattr(values_after, name)]
    return {
        "event_id": str(uuid.uuid4()),
        "operation": operation,
        "master_id": master,
        "related": _json_text(list(related)),
        "records_before": _json_text(records_before),
        "records_after": _json_text(records_after),
        "golden_before": before,
        "golden_after": after,
        "changed_fields": _json_text(changed),
    }


# A golden record's values as a struct of the golden fields (any JSON value each, None when absent): decoded by
# msgspec, several times faster than json.loads into a dict; a first run makes an event per master.
_Golden = msgspec.defstruct("Golden", [(name, Any, None) for name in GOLDEN_FIELDS], gc=False)
_decode_golden = msgspec.json.Decoder(_Golden).decode
_NONE = _Golden()
_encode = msgspec.json.Encoder().encode


def _json_text(values: list[str]) -> str:
    """A JSON list of strings, non-ASCII as UTF-8 (as json.dumps(ensure_ascii=False) writes it)."""
    return _encode(values).decode("utf-8")


def _stage_assignment(duck: duckdb.DuckDBPyConnection, master_of: Mapping[str, str]) -> None:
    """The new assignment, and the xref rows it changes (another master, or a newer linked version)."""
    staged = pa.table(  # noqa: F841 - read by DuckDB by its name
        {
            "unique_id": pa.array(list(master_of), pa.string()),
            "master_id": pa.array(list(master_of.values()), pa.string()),
        }
    )
    duck.execute(f"CREATE OR REPLACE TABLE {ASSIGNMENT} AS SELECT * FROM staged")
    duck.execute(f"""
        CREATE OR REPLACE TABLE {XREF_CHANGES} AS
        SELECT a.unique_id, r.department, r.source_key, r.version, r.record_id, a.master_id, m.unique_id IS NOT NULL AS was_linked
        FROM {ASSIGNMENT} a JOIN records r USING (unique_id) LEFT JOIN master_of m USING (unique_id)
        WHERE m.master_id IS DISTINCT FROM a.master_id OR m.version IS DISTINCT FROM r.version
    """)


def _members(master_of: Mapping[str, str], masters: set[str]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    if masters:
        for record, master in master_of.items():
            if master in masters:
                members[master].add(record)
    return members
