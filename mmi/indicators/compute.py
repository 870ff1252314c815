"""The indicators as of a date: numerator and denominator per area, with interval, target and linkage sensitivity.

`compute_indicators(source, as_of=...)` is the one entry point the CLI, the DAG, the API and the pages share: it
reads the store (an Engine or a Connection), builds the frame (mmi.indicators.frame) and returns typed rows, one
per indicator and area (district: 6 digits, city: 4, province: 2, and `all`, always). Each row names the
definition version it used. Beside each rate: the same rate under the index with the review band's links added
and with only the most certain links. For registration completeness, the Chapman estimate of the migrant
population from the two captures (public-security registration and the survey), with its 95% interval.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, fields

import duckdb
from sqlalchemy import Connection, Engine

from mmi.indicators.definitions import Definitions, Indicator, load_definitions
from mmi.indicators.frame import CERTAIN_THRESHOLD, GROUPINGS, build_groupings, load_store
from mmi.indicators.predicates import condition, lit, months_before
from schemas.errors import ConfigError

LEVELS = {"district": 6, "city": 4, "province": 2}
Z95 = 1.959963984540054
MEMORY_LIMIT = "2GB"


@dataclass(frozen=True)
class IndicatorRow:
    indicator: str
    area: str
    level: str  # district, city, province, all
    as_of: dt.date
    numerator: int
    denominator: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    target: float | None
    meets_target: bool | None
    definition_version: str
    rate_with_review_links: float | None  # the review band's links added
    rate_certain_links_only: float | None  # only the most certain links
    chapman_estimate: float | None = None  # registration_completeness only
    chapman_ci_low: float | None = None
    chapman_ci_high: float | None = None


COLUMNS = tuple(field.name for field in fields(IndicatorRow))


def wilson(numerator: int, denominator: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (None when there is no denominator)."""
    if denominator <= 0:
        return None, None
    p = numerator / denominator
    centre = (p + z * z / (2 * denominator)) / (1 + z * z / denominator)
    half = z * math.sqrt(p * (1 - p) / denominator + z * z / (4 * denominator * denominator)) / (1 + z * z / denominator)
    return max(0.0, centre - half), min(1.0, centre + half)


def chapman(first: int, second: int, both: int, z: float = Z95) -> tuple[float, float, float] | None:
    """Chapman's estimate of a population seen by two captures, with a normal 95% interval (Seber's variance)."""
    if first <= 0 or second <= 0:
        return None
    estimate = (first + 1) * (second + 1) / (both + 1) - 1
    variance = (first + 1) * (second + 1) * (first - both) * (second - both) / ((both + 1) ** 2 * (both + 2))
    half = z * math.sqrt(max(variance, 0.0))
    return estimate, max(estimate - half, float(first + second - both)), estimate + half  # never below those seen


def open_frame(
    source: Engine | Connection,
    *,
    match_threshold: float = 0.999,
    review_threshold: float = 0.5,
    certain_threshold: float = CERTAIN_THRESHOLD,
    groupings: tuple[str, ...] = GROUPINGS,
    area_prefix: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the store's records grouped every way the indicators need (only the persons
    with a record in `area_prefix`, if given)."""
    duck = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
    load_store(source, duck, area_prefix)
    build_groupings(duck, match_threshold, review_threshold, certain_threshold, groupings)
    return duck


def compute_indicators(
    source: Engine | Connection,
    *,
    as_of: dt.date,
    levels: tuple[str, ...] = tuple(LEVELS),
    area_prefix: str = "",
    indicator_ids: list[str] | None = None,
    definitions: Definitions | None = None,
    match_threshold: float = 0.999,
    review_threshold: float = 0.5,
    certain_threshold: float = CERTAIN_THRESHOLD,
) -> list[IndicatorRow]:
    """Every indicator asked for, at every level asked for (and `all`), for areas starting with `area_prefix`."""
    definitions = definitions or load_definitions()
    if unknown := set(levels) - set(LEVELS):
        raise ConfigError(f"unknown level(s) {sorted(unknown)}: use {', '.join(LEVELS)}")
    duck = open_frame(source, match_threshold=match_threshold, review_threshold=review_threshold, certain_threshold=certain_threshold)
    try:
        return rows_from_frame(duck, definitions, as_of, levels, area_prefix, indicator_ids)
    finally:
        duck.close()


def rows_from_frame(
    duck: duckdb.DuckDBPyConnection,
    definitions: Definitions,
    as_of: dt.date,
    levels: tuple[str, ...],
    area_prefix: str = "",
    indicator_ids: list[str] | None = None,
) -> list[IndicatorRow]:
    prepare_schedule(duck, definitions, as_of)
    rows: list[IndicatorRow] = []
    for indicator in definitions.select(indicator_ids):
        counts = {grouping: rolled_up(district_counts(duck, grouping, indicator, as_of), levels) for grouping in GROUPINGS}
        captures = rolled_up(capture_counts(duck, as_of), levels) if indicator.id == "registration_completeness" else None
        for (area, level), (numerator, denominator) in sorted(counts["index"].items(), key=_area_order):
            if area != "all" and not area.startswith(area_prefix):
                continue
            rows.append(_row(indicator, definitions.version, as_of, area, level, numerator, denominator, counts, captures))
    return rows


def _area_order(item: tuple[tuple[str, str], tuple[int, int]]) -> tuple[int, str]:
    (area, level), _ = item
    return (0 if level == "all" else 9 - LEVELS[level], area)


def _row(
    indicator: Indicator,
    version: str,
    as_of: dt.date,
    area: str,
    level: str,
    numerator: int,
    denominator: int,
    counts: dict[str, dict[tuple[str, str], tuple[int, int]]],
    captures: dict[tuple[str, str], tuple[int, int]] | None,
) -> IndicatorRow:
    rate = numerator / denominator if denominator else None
    low, high = wilson(numerator, denominator)
    estimate = None
    if captures is not None:
        registered, _ = captures.get((area, level), (0, 0))
        estimate = chapman(registered, denominator, numerator)
    return IndicatorRow(
        indicator.id,
        area,
        level,
        as_of,
        numerator,
        denominator,
        rate,
        low,
        high,
        indicator.target,
        None if indicator.target is None or rate is None else rate >= indicator.target,
        version,
        _rate(counts["review"].get((area, level))),
        _rate(counts["certain"].get((area, level))),
        *(estimate or (None, None, None)),
    )


def _rate(count: tuple[int, int] | None) -> float | None:
    return count[0] / count[1] if count and count[1] else None


def prepare_schedule(duck: duckdb.DuckDBPyConnection, definitions: Definitions, as_of: dt.date) -> None:
    """`schedule_due`: each dose of the schedule with the latest birth date for which it is due at A."""
    values = ", ".join(f"('{d.vaccine}', {d.dose}, {lit(months_before(as_of, d.months))})" for d in definitions.schedule)
    duck.execute("CREATE OR REPLACE TABLE main.schedule_due (vaccine VARCHAR, dose INTEGER, born_by DATE)")
    if values:
        duck.execute(f"INSERT INTO main.schedule_due VALUES {values}")


def unit_query(indicator: Indicator, as_of: dt.date, extra: str = "") -> str:
    """The indicator's units in its population, with their `area` and whether `served` (and `extra` columns)."""
    area = "p.district" if indicator.area == "registration" else "p.survey_district"
    source = "persons p" if indicator.unit == "person" else "reports r JOIN persons p USING (pid)"
    served = condition(indicator.served, as_of)
    return f"SELECT p.*, {area} AS area, coalesce(({served}), FALSE) AS served{extra} FROM {source} WHERE {condition(indicator.population, as_of)}"


def district_counts(
    duck: duckdb.DuckDBPyConnection, grouping: str, indicator: Indicator, as_of: dt.date
) -> list[tuple[str | None, int, int]]:
    """(district, served, units) of the indicator under a grouping."""
    duck.execute(f"SET search_path = '{grouping},main'")
    query = f"SELECT area, count(*) FILTER (WHERE served), count(*) FROM ({unit_query(indicator, as_of)}) GROUP BY area"
    return [(area, int(num), int(den)) for area, num, den in duck.execute(query).fetchall()]


def capture_counts(duck: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[tuple[str | None, int, int]]:
    """The first capture of Chapman's estimate: persons with a current registration, by registered district."""
    duck.execute("SET search_path = 'index,main'")
    return [
        (area, int(n), int(n)) for area, n in duck.execute("SELECT district, count(*) FROM persons WHERE registered GROUP BY 1").fetchall()
    ]


def rolled_up(districts: list[tuple[str | None, int, int]], levels: tuple[str, ...]) -> dict[tuple[str, str], tuple[int, int]]:
    """District counts summed to each level asked for and to `all` (a unit without a district counts in `all` only)."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for district, numerator, denominator in districts:
        keys = [("all", "all")] + [(district[: LEVELS[level]], level) for level in levels if district and len(district) >= LEVELS[level]]
        for key in keys:
            totals[key][0] += numerator
            totals[key][1] += denominator
    totals.setdefault(("all", "all"), [0, 0])
    return {key: (num, den) for key, (num, den) in totals.items()}
