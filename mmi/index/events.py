"""What a run changes in the index, and the events that say so, from the new clusters and the index's state.

Events come from two sources:
- membership (linkage.master_ids): create, split, merge, update (records joined or left), retire;
- golden values: a master whose records stayed the same but whose golden record changed (a new phone in a
  newer source version) gets an update event naming the changed fields.
A master whose only change is where a value came from (the same value, now from a newer source version) has its
lineage updated without an event: subscribers see values, auditors see lineage.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from linkage.clustering import Clustering
from linkage.master_ids import Assignment, MasterEvent
from mmi.index.golden import GOLDEN_FIELDS, Golden, golden_records
from mmi.store.index_tables import master_record

ASSIGNMENT = "assignment_next"  # workspace table: (unique_id, master_id) of every reclustered record
XREF_CHANGES = "xref_changes"  # workspace table: the master_xref rows to write


@dataclass(frozen=True)
class StoredMaster:
    values: dict[str, Any]  # golden values as JSON (dates ISO)
    lineage: dict[str, Any]
    record_count: int


@dataclass
class IndexChanges:
    new_masters: dict[str, Golden] = field(default_factory=dict)
    changed_masters: dict[str, Golden] = field(default_factory=dict)
    retired: dict[str, str | None] = field(default_factory=dict)  # master → the master it lives on in, if any
    events: list[dict[str, Any]] = field(default_factory=list)  # master_event rows, without run and model
    refused_pairs: int = 0  # matches kept apart by a cannot-link


def compose_changes(engine: Engine, duck: duckdb.DuckDBPyConnection, assignment: Assignment, previous: Mapping[str, str],
                    clustering: Clustering) -> IndexChanges:
    _stage_assignment(duck, assignment.master_of)
    after = golden_records(duck, "golden_inputs", ASSIGNMENT)
    before = stored_masters(engine, set(previous.values()))
    members = _members(assignment.master_of)
    changes = IndexChanges(refused_pairs=len(clustering.refused))
    explained = set()
    for event in assignment.events:
        explained.add(event.master_id)
        changes.events.append(_membership_event(event, before.get(event.master_id), after.get(event.master_id)))
        if event.operation in ("create", "split"):
            changes.new_masters[event.master_id] = after[event.master_id]
        elif event.operation == "retire":
            changes.retired[event.master_id] = event.related[0] if event.related else None
    for master, golden in after.items():
        if master in changes.new_masters:
            continue
        stored = before[master]
        if golden.as_json() != stored.values or golden.lineage != stored.lineage or golden.record_count != stored.record_count:
            changes.changed_masters[master] = golden
        if master not in explained and golden.as_json() != stored.values:
            records = sorted(members[master])
            changes.events.append(_event("update", master, (), records, records, stored, golden))
    return changes


def _membership_event(event: MasterEvent, before: StoredMaster | None, after: Golden | None) -> dict[str, Any]:
    if event.operation in ("create", "split"):
        before = None
    if event.operation == "retire":
        after = None
    return _event(event.operation, event.master_id, event.related, sorted(event.before), sorted(event.after), before, after)


def _event(operation: str, master: str, related: Iterable[str], records_before: list[str], records_after: list[str],
           before: StoredMaster | None, after: Golden | None) -> dict[str, Any]:
    values_before = before.values if before else None
    values_after = after.as_json() if after else None
    changed = [name for name in GOLDEN_FIELDS if (values_before or {}).get(name) != (values_after or {}).get(name)]
    return {
        "event_id": str(uuid.uuid4()), "operation": operation, "master_id": master, "related": json.dumps(list(related)),
        "records_before": json.dumps(records_before, ensure_ascii=False), "records_after": json.dumps(records_after, ensure_ascii=False),
        "golden_before": json.dumps(values_before, ensure_ascii=False) if values_before is not None else None,
        "golden_after": json.dumps(values_after, ensure_ascii=False) if values_after is not None else None,
        "changed_fields": json.dumps(changed), "lineage": json.dumps(after.lineage if after else {}, ensure_ascii=False),
    }


def _stage_assignment(duck: duckdb.DuckDBPyConnection, master_of: Mapping[str, str]) -> None:
    """The new assignment, and the xref rows it changes (another master, or a newer linked version)."""
    staged = pa.table({"unique_id": pa.array(list(master_of), pa.string()),  # noqa: F841 - read by DuckDB
                       "master_id": pa.array(list(master_of.values()), pa.string())})
    duck.execute(f"CREATE OR REPLACE TABLE {ASSIGNMENT} AS SELECT * FROM staged")
    duck.execute(f"""
        CREATE OR REPLACE TABLE {XREF_CHANGES} AS
        SELECT a.unique_id, r.department, r.source_key, r.version, r.record_id, a.master_id, m.unique_id IS NOT NULL AS was_linked
        FROM {ASSIGNMENT} a JOIN records r USING (unique_id) LEFT JOIN master_of m USING (unique_id)
        WHERE m.master_id IS DISTINCT FROM a.master_id OR m.version IS DISTINCT FROM r.version
    """)


def stored_masters(engine: Engine, master_ids: set[str], chunk: int = 5_000) -> dict[str, StoredMaster]:
    """The index's golden records for `master_ids`, as JSON values."""
    found: dict[str, StoredMaster] = {}
    ordered = sorted(master_ids)
    columns = [master_record.c.master_id, master_record.c.record_count, master_record.c.lineage, *(master_record.c[name] for name in GOLDEN_FIELDS)]
    with engine.connect() as connection:
        for start in range(0, len(ordered), chunk):
            query = select(*columns).where(master_record.c.master_id.in_(ordered[start:start + chunk]))
            for master, record_count, lineage, *values in connection.execute(query):
                golden = Golden(dict(zip(GOLDEN_FIELDS, values, strict=True)), {}, record_count)
                found[master] = StoredMaster(golden.as_json(), json.loads(lineage), record_count)
    return found


def _members(master_of: Mapping[str, str]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for record, master in master_of.items():
        members[master].add(record)
    return members
