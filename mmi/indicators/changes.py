"""Who entered and who left a subscriber's worklists since the state last delivered to it, and why they left.

`worklist_changes` computes every worklist a subscription lists, for each of its jurisdiction's prefixes, from one
frame of the whole store (a person who moved away is found outside the jurisdiction), and compares it with the
previous state (`Listed` per indicator and master). A person who left did so because they were:
- SERVED: still in the indicator's population, inside the jurisdiction, and now served;
- MOVED_AWAY: counted (or registered) in a district outside the jurisdiction now;
- AGED_OUT: no longer in the indicator's age band;
- NO_LONGER_ELIGIBLE: anything else (registration cancelled, the master merged into another or retired).
The delivery of these changes is the exchange's (mmi.exchange.worklists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
from sqlalchemy import Engine

from mmi.indicators.compute import open_frame, prepare_schedule, unit_query
from mmi.indicators.definitions import Definitions, Indicator, load_definitions
from mmi.indicators.predicates import condition
from mmi.indicators.worklist import WorklistRow, worklist_in_frame


@dataclass(frozen=True)
class Listed:
    """A person on a delivered worklist: where they were counted and since when the service was due."""

    district: str | None
    due_since: dt.date | None


@dataclass(frozen=True)
class WorklistChange:
    indicator: str
    change: str  # ENTERED or LEFT
    master_id: str
    district: str | None
    due_since: dt.date | None
    reason: str | None = None  # LEFT only: SERVED, MOVED_AWAY, AGED_OUT, NO_LONGER_ELIGIBLE
    row: WorklistRow | None = None  # ENTERED only: the worklist's row (who, where, what is missing)


State = Mapping[str, Mapping[str, Listed]]  # indicator → master ID → Listed


def worklist_changes(
    engine: Engine,
    *,
    indicators: tuple[str, ...],
    prefixes: tuple[str, ...],
    as_of: dt.date,
    previous: State,
    definitions: Definitions | None = None,
) -> list[WorklistChange]:
    """Entries (longest due first) and departures (by master ID) of each worklist, indicator by indicator."""
    definitions = definitions or load_definitions()
    duck = open_frame(engine, groupings=("index",))
    try:
        changes: list[WorklistChange] = []
        for indicator_id in indicators:
            current = {
                row.master_id: row
                for prefix in prefixes
                for row in worklist_in_frame(duck, engine, definitions, indicator_id, as_of, prefix)
            }
            before = previous.get(indicator_id, {})
            entered = [row for master, row in current.items() if master not in before]
            changes += [
                WorklistChange(indicator_id, "ENTERED", row.master_id, row.district, row.due_since, row=row)
                for row in sorted(entered, key=lambda row: (row.due_since or dt.date.max, row.master_id))
            ]
            gone = sorted(set(before) - set(current))
            reasons = _reasons(duck, definitions, definitions.indicator(indicator_id), as_of, prefixes, gone)
            changes += [
                WorklistChange(indicator_id, "LEFT", master, before[master].district, before[master].due_since, reason=reasons[master])
                for master in gone
            ]
        return changes
    finally:
        duck.close()


def _reasons(
    duck: duckdb.DuckDBPyConnection,
    definitions: Definitions,
    indicator: Indicator,
    as_of: dt.date,
    prefixes: tuple[str, ...],
    masters: list[str],
) -> dict[str, str]:
    if not masters:
        return {}
    prepare_schedule(duck, definitions, as_of)
    duck.execute("SET search_path = 'index,main'")
    duck.execute("CREATE OR REPLACE TEMP TABLE gone (master_id VARCHAR)")
    duck.executemany("INSERT INTO gone VALUES (?)", [[master] for master in masters])
    counted = {
        master: (area, bool(served))
        for master, area, served in duck.execute(
            f"SELECT u.master_id, u.area, u.served FROM ({unit_query(indicator, as_of)}) u JOIN gone USING (master_id)"
        ).fetchall()
    }
    ages = tuple(predicate for predicate in indicator.population if predicate.name == "age_between")
    persons = {
        master: (district, bool(in_band))
        for master, district, in_band in duck.execute(
            f"SELECT p.master_id, p.district, coalesce(({condition(ages, as_of)}), FALSE) FROM persons p JOIN gone USING (master_id)"
        ).fetchall()
    }

    def inside(district: str | None) -> bool:
        return district is not None and district.startswith(prefixes)

    def reason(master: str) -> str:
        if master in counted:
            area, served = counted[master]
            if not inside(area):
                return "MOVED_AWAY"
            return "SERVED" if served else "NO_LONGER_ELIGIBLE"
        if master in persons:
            district, in_band = persons[master]
            if not in_band:
                return "AGED_OUT"
            if district is not None and not inside(district):
                return "MOVED_AWAY"
        return "NO_LONGER_ELIGIBLE"

    return {master: reason(master) for master in masters}
