"""The day's indicators into the analytics table (`indicator_snapshot`), and written out as CSV.

`snapshot_indicators` is what the DAG runs after each link run: every indicator at every level as of a date,
replacing that date's rows in one transaction (a second run the same day, after another link run, leaves the
newest figures, never two sets). `write_csv` writes rows of either kind (indicators, worklist) with their columns
in order, dates as ISO dates and booleans as true/false, so a spreadsheet and a script read the same thing.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, delete, func, insert, select

from mmi.indicators.compute import IndicatorRow, compute_indicators
from mmi.store.index_tables import linkage_run
from mmi.store.indicator_tables import indicator_snapshot


def snapshot_indicators(engine: Engine, *, as_of: dt.date, match_threshold: float = 0.999, review_threshold: float = 0.5) -> dict[str, Any]:
    """Compute every indicator as of `as_of` and store them, replacing the date's earlier rows; a summary."""
    rows = compute_indicators(engine, as_of=as_of, match_threshold=match_threshold, review_threshold=review_threshold)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        run_id = connection.execute(select(func.max(linkage_run.c.id)).where(linkage_run.c.status == "done")).scalar()
        connection.execute(delete(indicator_snapshot).where(indicator_snapshot.c.as_of == as_of))
        if rows:
            connection.execute(
                insert(indicator_snapshot), [dataclasses.asdict(row) | {"linkage_run_id": run_id, "computed_at": now} for row in rows]
            )
    totals = {row.indicator: row.rate for row in rows if row.area == "all"}
    return {
        "as_of": as_of.isoformat(),
        "rows": len(rows),
        "linkage_run_id": run_id,
        "definition_version": rows[0].definition_version if rows else None,
        "totals": totals,
        "changed": bool(rows),
    }


def read_snapshot(engine: Engine, *, as_of: dt.date | None = None, level: str | None = None, area_prefix: str = "") -> list[IndicatorRow]:
    """Stored rows (all dates, or one), optionally of one level and areas under a prefix, oldest date first."""
    query = _stored_rows().order_by(indicator_snapshot.c.as_of, indicator_snapshot.c.id)
    if as_of is not None:
        query = query.where(indicator_snapshot.c.as_of == as_of)
    if level is not None:
        query = query.where(indicator_snapshot.c.level == level)
    if area_prefix:
        query = query.where(indicator_snapshot.c.area.startswith(area_prefix))
    return _read(engine, query)


def read_series(engine: Engine, *, indicator: str, area: str, dates: Sequence[dt.date]) -> list[IndicatorRow]:
    """One indicator's stored rows for one area at the given dates (those that have a snapshot), oldest first."""
    query = (
        _stored_rows()
        .where(indicator_snapshot.c.indicator == indicator, indicator_snapshot.c.area == area, indicator_snapshot.c.as_of.in_(list(dates)))
        .order_by(indicator_snapshot.c.as_of)
    )
    return _read(engine, query)


def _stored_rows() -> Select[Any]:
    return select(*(indicator_snapshot.c[field.name] for field in dataclasses.fields(IndicatorRow)))


def _read(engine: Engine, query: Select[Any]) -> list[IndicatorRow]:
    with engine.connect() as connection:
        return [IndicatorRow(**row._mapping) for row in connection.execute(query)]


def write_csv(rows: Sequence[Any], columns: tuple[str, ...], out: Path) -> int:
    """Rows (dataclasses) as CSV with `columns` in order; returns how many."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(getattr(row, column)) for column in columns])
    return len(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}"
    return value.isoformat() if isinstance(value, dt.date) else str(value)
