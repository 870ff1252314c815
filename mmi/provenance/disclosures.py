"""The accounting of disclosures: which subscriber received which of a person's fields, when, and who downloaded it.

A person is named by a master ID, a record key or an ID number (looked up among the standardised records, every
version). Every master whose events ever held one of those records counts (a master merged away included), and
every delivery of their events is listed with the fields it carried: those the change-set file names in its header
(`mmi.fields`, written at publication), read from the file as delivered. A subscription can change after a delivery;
what was disclosed cannot. Only when the file is gone or no longer the one published (its SHA-256 differs) do the
subscription's present fields stand in, and the item says so.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fastavro
from sqlalchemy import Connection, select

from mmi.exchange.deliveries import ChangesetCorrupt, published_content
from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.provenance.errors import InvalidQuery, NotFound
from mmi.provenance.lookup import deliveries_of, events_of, masters_holding
from mmi.provenance.models import DisclosureItem, Disclosures
from mmi.store.index_tables import master_record
from mmi.store.tables import source_record

MAX_MASTERS = 50


def subject_masters(connection: Connection, master_id: str | None, record_key: tuple[str, str] | None, id_number: str | None) -> set[str]:
    """The masters one (and only one) of the three names resolves to."""
    if sum(value is not None for value in (master_id, record_key, id_number)) != 1:
        raise InvalidQuery("name the person one way: master_id, or department and source_key, or id_number")
    if master_id is not None:
        return {master_id}
    if record_key is not None:
        return masters_holding(connection, [f"{record_key[0]}|{record_key[1]}"])
    assert id_number is not None
    query = select(source_record.c.department, source_record.c.source_key).where(source_record.c.id_number == id_number.upper())
    keys = {f"{department}|{source_key}" for department, source_key in connection.execute(query.distinct())}
    return masters_holding(connection, keys) if keys else set()


def delivered_fields(changesets_dir: Path, delivery: Mapping[str, Any]) -> list[str] | None:
    """The fields a change-set file carried (its `mmi.fields` header), or None when the file is not the one published."""
    try:
        content = published_content(changesets_dir, delivery["subscriber"], delivery["seq"], delivery["file_name"], delivery["file_sha256"])
    except (ChangesetCorrupt, OSError):
        return None
    try:
        named = json.loads(fastavro.reader(io.BytesIO(content)).metadata["mmi.fields"])
    except (ValueError, KeyError, TypeError):
        return None
    return [str(name) for name in named] if isinstance(named, list) else None


def disclosures(
    connection: Connection, principal: Principal, masters: set[str], subscriptions: Mapping[str, Subscription], changesets_dir: Path
) -> Disclosures:
    if not masters:
        raise NotFound("no master or record matches")
    if len(masters) > MAX_MASTERS:
        raise InvalidQuery(f"the question matches {len(masters)} masters (at most {MAX_MASTERS}): ask by master ID")
    districts = dict(
        connection.execute(
            select(master_record.c.master_id, master_record.c.current_district).where(master_record.c.master_id.in_(masters))
        ).all()
    )
    visible = sorted(master for master in masters if master in districts and principal.covers(districts[master]))
    if not visible:
        raise NotFound("no master or record matches within your jurisdiction")
    events = {event.seq: event for event in events_of(connection, visible)}
    items = []
    carried: dict[tuple[str, int], list[str] | None] = {}  # per change set: a person's events often share one
    for row in deliveries_of(connection, list(events)):
        event = events[row["outbox_seq"]]
        key = (row["subscriber"], row["seq"])
        if key not in carried:
            carried[key] = delivered_fields(changesets_dir, row)
        fields = carried[key]
        if fields is None:
            subscription = subscriptions.get(row["subscriber"])
            fields = list(subscription.fields) if subscription is not None else []
        items.append(
            DisclosureItem(
                subscriber=row["subscriber"],
                seq=row["seq"],
                event_id=event.event_id,
                master_id=event.master_id,
                operation=event.operation,
                fields=fields,
                fields_from="subscription" if carried[key] is None else "changeset",
                published_at=row["published_at"],
                downloads=row["downloads"],
            )
        )
    return Disclosures(masters=visible, items=items)
