"""Pull health persons and service events, page by page, resuming from the newest `updated_at` stored.

Each page is followed by a checkpoint, so the cursor moves only once the page's items are stored. The cursor is
the newest `updated_at` seen; the API's `updated_since` is inclusive, so items sharing that time are fetched
again on the next run, and change nothing because they are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.base import Checkpoint, Delivery, RecordKind, Row, SourceState, Unreadable
from connectors.health.client import HealthClient, HealthSettings
from schemas.dates import parse_timestamp
from schemas.raw import RawPerson

STREAMS: dict[str, tuple[RecordKind, str]] = {"persons": ("person", "person_id"), "services": ("service", "event_id")}


@dataclass(frozen=True)
class UpdatedSinceCursor:
    """The newest `updated_at` stored, as the API wrote it. `updated_since` is inclusive: the items sharing that
    time are fetched again (a look-back of zero width), and change nothing."""

    updated_since: str

    def as_json(self) -> dict[str, Any]:
        return {"updated_since": self.updated_since}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> UpdatedSinceCursor:
        return cls(str(value["updated_since"]))


class HealthConnector:
    department = "health"

    def __init__(self, settings: HealthSettings, client_factory: Callable[[HealthSettings], HealthClient] = HealthClient) -> None:
        self.settings = settings
        self.client_factory = client_factory

    def deliveries(self, state: SourceState) -> Iterator[Delivery]:
        client = self.client_factory(self.settings)
        try:
            for stream in STREAMS:
                yield from self._stream(client, stream, state.cursor(stream))
        finally:
            client.close()

    def _stream(self, client: HealthClient, stream: str, cursor: dict[str, Any] | None) -> Iterator[Delivery]:
        newest = UpdatedSinceCursor.from_json(cursor).updated_since if cursor and cursor.get("updated_since") else None
        updated_since, page_token, page_number = newest, None, 0
        while True:
            page_number += 1
            page = client.page(stream, updated_since, page_token)
            for index, item in enumerate(page.items):
                delivery = self._delivery(stream, f"{page.url} item {index}", item)
                if isinstance(delivery, Row):
                    newest = _later(newest, item.get("updated_at"))
                yield delivery
            yield Checkpoint(stream, UpdatedSinceCursor(newest).as_json() if newest else None)
            if page.next_page_token is None:
                return
            page_token = page.next_page_token

    def _delivery(self, stream: str, location: str, item: Any) -> Delivery:
        kind, key_field = STREAMS[stream]
        if not isinstance(item, dict):
            return Unreadable(stream, location, f"the item is a {type(item).__name__}, not a JSON object", _raw(item))
        key = item.get(key_field)
        if not isinstance(key, str) or not key.strip():
            return Unreadable(stream, location, f"{key_field} is missing: the item has no key", _raw(item))
        if parse_timestamp(item.get("updated_at")) is None:
            reason = f"updated_at {item.get('updated_at')!r} is not an ISO-8601 time: the item cannot be ordered"
            return Unreadable(stream, location, reason, _raw(item), key)
        return Row(stream, kind, key.strip(), item, location)

    def to_raw_person(self, payload: dict[str, Any]) -> RawPerson:
        return RawPerson(
            name=payload.get("name"),
            id_number=payload.get("id_card"),
            sex=payload.get("sex"),
            birth_date=payload.get("birth_date"),
            phone=payload.get("phone"),
            current_address=payload.get("address"),
            current_district=payload.get("address_code"),
            guardian_id_number=payload.get("guardian_id_card"),
            health_record_no=payload.get("health_record_no"),
            health_record_date=payload.get("health_record_date"),
            source_updated_at=payload.get("updated_at"),
        )


def _raw(item: Any) -> bytes:
    return json.dumps(item, ensure_ascii=False).encode("utf-8")


def _later(current: str | None, candidate: Any) -> str | None:
    """The later of two ISO-8601 times, compared as instants (offsets may differ), kept as written."""
    if not isinstance(candidate, str):
        return current
    if current is None:
        return candidate
    new, old = parse_timestamp(candidate), parse_timestamp(current)
    return candidate if new and old and new > old else current
