"""Reading the outbox (`master_event`) for the publisher, in two steps.

First, for the events of the batch, only their numbers and the person's district before and after, taken out of
the golden records' JSON by the database itself (SQLite's json_extract, PostgreSQL's ->>). That is all routing
needs. Then the whole rows, only of the events that reach at least one subscriber: most events of a large index
concern people outside every jurisdiction that subscribes, and cost no more than those three values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Select, cast, select, type_coerce

from mmi.exchange.routing import OutboxEvent
from mmi.exchange.subscriptions import Subscription
from mmi.store.exchange_tables import exchange_gap
from mmi.store.index_tables import master_event

_CHUNK = 2000  # numbers per IN list


@dataclass(frozen=True, slots=True)
class Route:
    seq: int
    district_before: str | None
    district_after: str | None


def read_routes(connection: Connection, floor: int, gaps: bool, limit: int) -> tuple[list[Route], list[Route]]:
    """(events found in the open gaps, the next events above `floor`), each at most `limit`, in number order."""
    columns = [master_event.c.seq, _district(connection, master_event.c.golden_before), _district(connection, master_event.c.golden_after)]
    late: list[Route] = []
    if gaps:
        in_gap = master_event.c.seq.between(exchange_gap.c.low_seq, exchange_gap.c.high_seq)
        late = _routes(connection, select(*columns).join(exchange_gap, in_gap).order_by(master_event.c.seq).limit(limit))
    new = _routes(connection, select(*columns).where(master_event.c.seq > floor).order_by(master_event.c.seq).limit(limit))
    return late, new


def reaching(routes: Iterable[Route], subscriptions: Iterable[Subscription]) -> list[Route]:
    """The routes of events that reach at least one of `subscriptions`, in number order."""
    reach = list(subscriptions)
    return sorted(
        (route for route in routes if any(s.covers(route.district_after) or s.covers(route.district_before) for s in reach)),
        key=lambda route: route.seq,
    )


def read_events(connection: Connection, routes: list[Route]) -> list[OutboxEvent]:
    """The whole rows of the routed events, in number order."""
    wanted = {route.seq: route for route in routes}
    numbers = sorted(wanted)
    events = []
    for start in range(0, len(numbers), _CHUNK):
        query = select(master_event).where(master_event.c.seq.in_(numbers[start : start + _CHUNK])).order_by(master_event.c.seq)
        for row in connection.execute(query):
            route = wanted[row.seq]
            events.append(OutboxEvent(row._mapping, route.district_before, route.district_after))
    return events


def _routes(connection: Connection, query: Select[Any]) -> list[Route]:
    return [Route(row[0], row[1], row[2]) for row in connection.execute(query)]


def _district(connection: Connection, column: ColumnElement[str]) -> ColumnElement[str]:
    """`current_district` of a golden record's JSON text, extracted by the database."""
    as_json = cast(column, JSON) if connection.dialect.name == "postgresql" else type_coerce(column, JSON)
    return as_json["current_district"].as_string()
