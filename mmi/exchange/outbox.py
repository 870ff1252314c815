"""Reading the outbox (`master_event`) for the publisher, in two steps.

First, for the events of the batch, only their numbers and the person's district before and after, taken out of
the golden records' JSON by the database itself (SQLite's json_extract, PostgreSQL's ->>). That is all routing
needs. Then the whole rows, only of the events that reach at least one subscriber: most events of a large index
concern people outside every jurisdiction that subscribes, and cost no more than those three values.

Both steps read through the driver's cursor, as plain tuples: SQLAlchemy's rows, its expanding IN parameters and
its per-value type processing cost as much as the database's own work here (the outbox is read at every
publication, about 10 µs an event). The one typed value, `occurred_at`, is made timezone-aware UTC as the store's
UTCDateTime would (SQLite hands it over as text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import JSON, ColumnElement, Connection, Select, cast, select, type_coerce

from mmi.exchange.routing import OutboxEvent
from mmi.exchange.subscriptions import Subscription
from mmi.store.exchange_tables import exchange_gap
from mmi.store.index_tables import master_event

_CHUNK = 2000  # numbers per IN list


class Route(NamedTuple):  # a tuple: made for every event read, twice as fast as a frozen dataclass
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
    """The whole rows of the routed events (as dicts, but for `changed_fields`: the projection computes its own),
    in number order."""
    wanted = {route.seq: route for route in routes}
    numbers = sorted(wanted)
    select_list = f"SELECT {', '.join(_EVENT_COLUMNS)} FROM {master_event.name} WHERE seq "
    occurred_at = _EVENT_COLUMNS.index("occurred_at")
    events = []
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        # Integers from the outbox itself, written into the statement: no parameters to bind or expand.
        where = f"BETWEEN {chunk[0]} AND {chunk[-1]}" if chunk[-1] - chunk[0] == len(chunk) - 1 else f"IN ({','.join(map(str, chunk))})"
        for values in _driver_rows(connection, f"{select_list}{where} ORDER BY seq"):
            row = dict(zip(_EVENT_COLUMNS, values, strict=True))
            row["occurred_at"] = _aware_utc(values[occurred_at])
            route = wanted[row["seq"]]
            events.append(OutboxEvent(row, route.district_before, route.district_after))
    return events


_EVENT_COLUMNS = tuple(column.name for column in master_event.c if column.name != "changed_fields")


def _driver_rows(connection: Connection, statement: str) -> list[tuple[Any, ...]]:
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _aware_utc(value: dt.datetime | str) -> dt.datetime:
    """A stored timestamp (naive UTC; text on SQLite) as the store's UTCDateTime reads it back."""
    return (dt.datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=dt.UTC)


def _routes(connection: Connection, query: Select[Any]) -> list[Route]:
    compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
    return [Route(*values) for values in _driver_rows(connection, str(compiled))]


def _district(connection: Connection, column: ColumnElement[str]) -> ColumnElement[str]:
    """`current_district` of a golden record's JSON text, extracted by the database."""
    as_json = cast(column, JSON) if connection.dialect.name == "postgresql" else type_coerce(column, JSON)
    return as_json["current_district"].as_string()
