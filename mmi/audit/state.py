"""The index as the logged events produce it, compared with the state tables (`master_record`, `master_xref`).

Replaying `master_event` in commit order, each master's last event gives its golden values (`golden_after`; none
once retired) and its records (`records_after`). A golden value or a cross-reference edited in place, without
its event, shows here; the events themselves are checked against the log's leaves (mmi.audit.verify).
Lineage (where a value came from) is not compared: a run may move it without an event (mmi.index.events).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from mmi.audit.log import plain
from mmi.store.index_tables import master_event, master_record, master_xref
from schemas.golden import GOLDEN_FIELDS


def replay(connection: Connection) -> tuple[dict[str, tuple[str, dict[str, Any] | None]], dict[str, str]]:
    """(master → (last operation, golden values or None), record key → master) from the events, in order."""
    last: dict[str, tuple[str, dict[str, Any] | None]] = {}
    members: dict[str, list[str]] = {}
    query = select(master_event.c.master_id, master_event.c.operation, master_event.c.golden_after, master_event.c.records_after).order_by(
        master_event.c.seq
    )
    for master, operation, golden, records in connection.execute(query):
        last[master] = (operation, _object(golden))
        members[master] = [] if operation == "retire" else _list(records)
    owner = {record: master for master, records in members.items() for record in records}
    return last, owner


def compare_state(connection: Connection) -> Iterator[str]:
    """Each way the state tables differ from what the events produce, as a sentence naming the row."""
    last, owner = replay(connection)
    seen: set[str] = set()
    for row in connection.execute(select(master_record).order_by(master_record.c.master_id)):
        seen.add(row.master_id)
        logged = last.get(row.master_id)
        if logged is None:
            yield f"master_record {row.master_id}: no logged event made this master"
            continue
        operation, golden = logged
        if (operation == "retire") != (row.status == "retired"):
            yield f"master_record {row.master_id}: status is {row.status}, the logged events leave it {'retired' if operation == 'retire' else 'active'}"
            continue
        if golden is not None:
            for name in GOLDEN_FIELDS:
                if plain(getattr(row, name)) != golden.get(name):
                    yield f"master_record {row.master_id}: golden value '{name}' differs from what the logged events produce"
                    break
    for master in sorted(set(last) - seen):
        yield f"master_record {master}: missing, though logged events made it"
    expected = dict(owner)
    for department, source_key, master in connection.execute(
        select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id).order_by(
            master_xref.c.department, master_xref.c.source_key
        )
    ):
        key = f"{department}|{source_key}"
        wanted = expected.pop(key, None)
        if wanted is None:
            yield f"master_xref {key}: the logged events link this record to no master"
        elif wanted != master:
            yield f"master_xref {key}: master_id is {master}, the logged events give {wanted}"
    for key in sorted(expected):
        yield f"master_xref {key}: missing, though the logged events link it to {expected[key]}"


def _object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"": "(not JSON)"}
    return value if isinstance(value, dict) else {"": "(not an object)"}


def _list(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []
