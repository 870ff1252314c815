"""Which subscribers an outbox event reaches, and what each of them may see of it.

An event reaches a subscriber when the person is, or was just, in its jurisdiction: the golden record's
`current_district` before or after the event starts with one of the subscriber's prefixes. What it carries is
projected: the person's listed fields only (the others stay null), the changed fields and lineage of those fields
only, and of the records behind the master only the subscriber's own department's keys. An update that changes
nothing the subscriber can see (no listed field, none of its own records, no move across its border) is not
sent to it at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from mmi.exchange.subscriptions import Subscription
from schemas.lineage import Source, field_sources

DATE_FIELDS = frozenset({"birth_date", "residence_start"})


_decode_json = msgspec.json.Decoder().decode  # C-fast; any JSON value, as dicts and lists


@dataclass
class OutboxEvent:
    """One `master_event` row and its districts (read by the database); the JSON columns are decoded once each,
    when a subscriber first needs them."""

    row: Mapping[Any, Any]
    district_before: str | None
    district_after: str | None
    _decoded: dict[str, Any] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        return int(self.row["seq"])

    def json(self, column: str) -> Any:
        if column not in self._decoded:
            raw = self.row[column]
            self._decoded[column] = (field_sources if column == "lineage" else _decode_json)(raw) if raw else None
        return self._decoded[column]

    @property
    def before(self) -> dict[str, Any] | None:
        decoded: dict[str, Any] | None = self.json("golden_before")
        return decoded

    @property
    def after(self) -> dict[str, Any] | None:
        decoded: dict[str, Any] | None = self.json("golden_after")
        return decoded


class Projector:
    """An event as one subscription may see it (an Avro datum of the change-set schema), or None if it is not sent;
    what depends only on the subscription is worked out once."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.fields = subscription.fields
        self.dates = [name for name in subscription.fields if name in DATE_FIELDS]
        self.own = f"{subscription.department}|"

    def __call__(self, event: OutboxEvent) -> dict[str, Any] | None:
        covers = self.subscription.covers
        if not (covers(event.district_after) or covers(event.district_before)):
            return None
        before, after = self._person(event.before), self._person(event.after)
        changed = [name for name in self.fields if (before or _EMPTY).get(name) != (after or _EMPTY).get(name)]
        own_before, own_after = self._own_records(event, "records_before"), self._own_records(event, "records_after")
        crossing = _crossing(event, self.subscription)
        row = event.row
        if row["operation"] == "update" and not changed and own_before == own_after and crossing is None:
            return None
        return {
            "event_id": row["event_id"],
            "outbox_seq": row["seq"],
            "operation": row["operation"],
            "master_id": row["master_id"],
            "related_ids": event.json("related") or [],
            "person_before": before,
            "person_after": after,
            "changed_fields": changed,
            "lineage": self._lineage(event.json("lineage") or _EMPTY),
            "own_records_before": own_before,
            "own_records_after": own_after,
            "run_id": row["run_id"],
            "model_version_id": row["model_version_id"],
            "occurred_at": row["occurred_at"],
            "jurisdiction_change": crossing,
        }

    def _person(self, golden: dict[str, Any] | None) -> dict[str, Any] | None:
        """The listed fields of a golden record; the schema's defaults (null) fill the rest when written."""
        if golden is None:
            return None
        person = {name: golden.get(name) for name in self.fields}
        for name in self.dates:
            if isinstance(value := person[name], str):
                person[name] = dt.date.fromisoformat(value)
        return person

    def _lineage(self, lineage: dict[str, Any]) -> list[dict[str, Any]]:
        """The shared fields' sources, one entry per source version and rule, with the fields it supplied. Only the
        schema's keys of a source are copied: anything else in linkage's lineage stays behind."""
        grouped: dict[Source, list[str]] = {}
        for name in self.fields:
            if (source := lineage.get(name)) is not None:
                grouped.setdefault(source, []).append(name)
        return [
            {
                "fields": names,
                "department": source.department,
                "source_key": source.source_key,
                "version": source.version,
                "record_id": source.record_id,
                "rule": source.rule,
            }
            for source, names in grouped.items()
        ]

    def _own_records(self, event: OutboxEvent, column: str) -> list[str]:
        raw = event.row[column]
        if not raw or self.own not in raw:  # none of the subscriber's own: no need to decode the list
            return []
        size = len(self.own)
        return sorted(key[size:] for key in event.json(column) if key.startswith(self.own))


_EMPTY: dict[str, Any] = {}


def _crossing(event: OutboxEvent, subscription: Subscription) -> str | None:
    if not event.row["golden_before"] or not event.row["golden_after"]:
        return None
    was, now = subscription.covers(event.district_before), subscription.covers(event.district_after)
    return None if was == now else ("moved_in" if now else "moved_out")
