"""A master's golden record now, or as it was at a time, with everything that shaped it and where it went.

Now: the golden record is `master_record` (its values and `lineage`). As of a time: the event in force then (the
master's last event committed at or before it) gives the values, the lineage and the records; a master retired by
a merge shows as it was before the merge (its last values, status `retired`, its successor). Each value's source
is its lineage pointer joined to the source version's row (location, batch, payload checksum). The records carry
since when they have been in the master: the event that last put them there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, or_, select

from mmi.audit.log import plain
from mmi.principal import Principal
from mmi.provenance.errors import NotFound
from mmi.provenance.lookup import chunks, deliveries_of, events_of, json_list, json_object
from mmi.provenance.models import (
    Delivery,
    FieldSource,
    GoldenField,
    MasterEventView,
    MasterRecordRef,
    MasterView,
    StewardDecision,
)
from mmi.store.index_tables import link_constraint, master_record, master_xref, model_version
from mmi.store.review_tables import review_decision, review_item_record
from mmi.store.tables import source_record
from schemas.golden import GOLDEN_FIELDS
from schemas.lineage import Source, field_sources


def master_view(connection: Connection, principal: Principal, master_id: str, as_of: dt.datetime | None = None) -> MasterView:
    events = [event for event in events_of(connection, [master_id]) if as_of is None or event.occurred_at <= as_of]
    state = _current_state(connection, master_id, events) if as_of is None else _state_at(master_id, events, as_of)
    if not principal.covers(state["district"]):
        raise NotFound(f"no master {master_id} within your jurisdiction")
    records = _records(connection, master_id, state["records"], events, as_of)
    held = {key for event in events for key in json_list(event.records_after) + json_list(event.records_before)}
    return MasterView(
        master_id=master_id,
        status=state["status"],
        successor_id=state["successor"],
        as_of=as_of,
        fields=_fields(connection, state["values"], state["lineage"]),
        records=records,
        events=_events(connection, events),
        decisions=_decisions(connection, held | {record.record_key for record in records}, as_of),
        deliveries=[
            Delivery(event_id=_event_id(events, row["outbox_seq"]), **row)
            for row in deliveries_of(connection, [event.seq for event in events])
            if as_of is None or row["published_at"] <= as_of
        ],
    )


def _current_state(connection: Connection, master_id: str, events: list[Any]) -> dict[str, Any]:
    row = connection.execute(select(master_record).where(master_record.c.master_id == master_id)).one_or_none()
    if row is None:
        raise NotFound(f"no master {master_id}")
    keys = connection.execute(select(master_xref.c.department, master_xref.c.source_key).where(master_xref.c.master_id == master_id)).all()
    records = [f"{department}|{source_key}" for department, source_key in keys]
    if row.status == "retired" and events:  # merged away: the records it held before
        records = json_list(events[-1].records_before)
    return {
        "status": row.status,
        "successor": row.successor_id,
        "values": {name: plain(getattr(row, name)) for name in GOLDEN_FIELDS},
        "lineage": field_sources(row.lineage) if row.lineage else {},
        "records": records,
        "district": row.current_district,
    }


def _state_at(master_id: str, events: list[Any], as_of: dt.datetime) -> dict[str, Any]:
    if not events:
        raise NotFound(f"master {master_id} did not exist at {as_of.isoformat()}")
    last = events[-1]
    shaped = next((event for event in reversed(events) if event.golden_after is not None), None)
    values = json_object(shaped.golden_after) if shaped is not None else None
    retired = last.operation == "retire"
    return {
        "status": "retired" if retired else "active",
        "successor": (json_list(last.related) or [None])[0] if retired else None,
        "values": values or {},
        "lineage": field_sources(shaped.lineage) if shaped is not None and shaped.lineage else {},
        "records": json_list(last.records_before if retired else last.records_after),
        "district": (values or {}).get("current_district"),
    }


def _fields(connection: Connection, values: dict[str, Any], lineage: dict[str, Source | None]) -> dict[str, GoldenField]:
    pointers = {name: pointer for name, pointer in lineage.items() if pointer is not None and pointer.version is not None}
    versions = _versions(connection, [(str(p.department), str(p.source_key), int(p.version or 0)) for p in pointers.values()])
    fields = {}
    for name in GOLDEN_FIELDS:
        pointer = pointers.get(name)
        source = None
        if pointer is not None:
            key = (str(pointer.department), str(pointer.source_key), int(pointer.version or 0))
            found = versions.get(key, {})
            source = FieldSource(
                department=key[0],
                source_key=key[1],
                version=key[2],
                location=found.get("location"),
                batch_id=found.get("batch_id"),
                payload_sha256=found.get("payload_sha256"),
                rule=pointer.rule or "",
            )
        fields[name] = GoldenField(value=values.get(name), source=source)
    return fields


def _versions(connection: Connection, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    wanted = sorted(set(keys))
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    for part in chunks(wanted):
        condition = or_(
            *(
                (source_record.c.department == department) & (source_record.c.source_key == key) & (source_record.c.version == version)
                for department, key, version in part
            )
        )
        query = select(
            source_record.c.department,
            source_record.c.source_key,
            source_record.c.version,
            source_record.c.location,
            source_record.c.batch_id,
            source_record.c.payload_sha256,
        ).where(condition)
        for row in connection.execute(query):
            found[(row.department, row.source_key, row.version)] = dict(row._mapping)
    return found


def _records(
    connection: Connection, master_id: str, keys: list[str], events: list[Any], as_of: dt.datetime | None
) -> list[MasterRecordRef]:
    since: dict[str, dt.datetime] = {}
    for event in events:  # a record's "since" is the event that last brought it in
        after = set(json_list(event.records_after))
        for key in after - set(json_list(event.records_before)):
            since[key] = event.occurred_at
        for key in set(since) - after:
            del since[key]
    linked = {}
    if as_of is None:  # now: the version each record was last linked at
        query = select(master_xref.c.department, master_xref.c.source_key, master_xref.c.version).where(
            master_xref.c.master_id == master_id
        )
        linked = {f"{row.department}|{row.source_key}": int(row.version) for row in connection.execute(query)}
    refs = []
    for key in sorted(keys):
        department, _, source_key = key.partition("|")
        refs.append(
            MasterRecordRef(record_key=key, department=department, source_key=source_key, version=linked.get(key), since=since.get(key))
        )
    return refs


def _events(connection: Connection, events: list[Any]) -> list[MasterEventView]:
    models = {row.id: row.sha256 for row in connection.execute(select(model_version.c.id, model_version.c.sha256))} if events else {}
    return [
        MasterEventView(
            seq=event.seq,
            event_id=event.event_id,
            operation=event.operation,
            occurred_at=event.occurred_at,
            run_id=event.run_id,
            model_version_id=event.model_version_id,
            model_sha256=models.get(event.model_version_id),
            related=json_list(event.related),
            changed_fields=json_list(event.changed_fields),
            records_before=json_list(event.records_before),
            records_after=json_list(event.records_after),
            golden_before=json_object(event.golden_before),
            golden_after=json_object(event.golden_after),
        )
        for event in events
    ]


def _event_id(events: list[Any], outbox_seq: int) -> str:
    return str(next(event.event_id for event in events if event.seq == outbox_seq))


def _decisions(connection: Connection, keys: set[str], as_of: dt.datetime | None) -> list[StewardDecision]:
    """Review decisions on items about these records, and link constraints touching them (at or before `as_of`)."""
    found: list[StewardDecision] = []
    seen: set[int] = set()
    for part in chunks(sorted(keys)):
        reviews = (
            select(review_decision)
            .join(review_item_record, review_item_record.c.item_id == review_decision.c.item_id)
            .where(review_item_record.c.record_key.in_(part))
        )
        for row in connection.execute(reviews):
            if row.id in seen or (as_of is not None and row.decided_at > as_of):
                continue
            seen.add(row.id)
            found.append(
                StewardDecision(
                    source="review_decision",
                    id=row.id,
                    kind=row.decision,
                    status=row.status,
                    records=json_list(row.records),
                    reason=row.reason,
                    decided_by=row.decided_by,
                    decided_at=row.decided_at,
                    reviewed_by=row.reviewed_by,
                    reviewed_at=row.reviewed_at,
                )
            )
        constraints = select(link_constraint).where(or_(link_constraint.c.left_key.in_(part), link_constraint.c.right_key.in_(part)))
        for row in connection.execute(constraints):
            if as_of is not None and row.decided_at > as_of:
                continue
            found.append(
                StewardDecision(
                    source="link_constraint",
                    id=row.id,
                    kind=row.kind,
                    status="applied" if row.applied_run_id is not None else "pending",
                    records=[row.left_key, row.right_key],
                    reason=row.reason,
                    decided_by=row.decided_by,
                    decided_at=row.decided_at,
                )
            )
    unique = {(decision.source, decision.id): decision for decision in found}
    return sorted(unique.values(), key=lambda decision: (decision.decided_at, decision.source, decision.id))
