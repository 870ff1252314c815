"""Who may read which indicators and worklists, and the reads themselves: what the JSON API and the pages both call.

- Indicators are aggregates (counts, rates, intervals per area; never a person): roles `planner` and `admin`. A
  caller with a jurisdiction sees only areas inside it, i.e. whose code starts with one of its prefixes; the
  national total `all` and any wider area (a province around its city) are left out, since they count people
  outside it. Asking for an area outside: Forbidden.
- A worklist names persons (name, phone, address): `admin`, and a `subscriber` whose subscription's department is
  health, for an area inside the subscription's jurisdiction (and the token's, if it carries a narrower one). A
  planner never reads one, so a planner's session has no way to a name. Anyone else: Forbidden.
- Figures come from the analytics table (`indicator_snapshot`) when the DAG left a snapshot of that date, else
  they are computed from the index now; the report says which.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from sqlalchemy import Engine, func, select

from mmi.exchange.subscriptions import Subscription
from mmi.indicators.compute import LEVELS, IndicatorRow, compute_indicators
from mmi.indicators.definitions import Definitions, Indicator, load_definitions
from mmi.indicators.errors import Forbidden, InvalidRequest, UnknownIndicator
from mmi.indicators.models import IndicatorFigure, IndicatorReport, Level, TrendPoint, Worklist, WorklistPerson
from mmi.indicators.snapshot import read_series, read_snapshot
from mmi.indicators.worklist import compute_worklist
from mmi.principal import Principal
from mmi.store.index_tables import linkage_run
from mmi.store.indicator_tables import indicator_snapshot
from schemas.errors import ConfigError

PLANNERS = frozenset({"planner", "admin"})
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2100, 12, 31)
TREND_MONTHS = 12
_CHILD_LEVEL = {0: "province", 1: "province", 2: "city", 3: "city", 4: "district", 5: "district"}


def indicator_report(
    engine: Engine, principal: Principal, *, as_of: dt.date, level: Level | None = None, area: str | None = None
) -> IndicatorReport:
    """Every indicator's figures as of a date, of one level or all, for the areas under `area` the caller may see."""
    admit_planner(principal)
    check_date(as_of)
    area = _area(area)
    if area is not None and not principal.covers(area):
        raise Forbidden(f"area {area} is outside your jurisdiction ({', '.join(principal.jurisdiction or ())})")
    rows = read_snapshot(engine, as_of=as_of)
    source: Literal["snapshot", "computed"] = "snapshot" if rows else "computed"
    if not rows:
        match, review = linkage_thresholds(engine)
        levels = (level,) if level else tuple(LEVELS)
        rows = compute_indicators(
            engine, as_of=as_of, levels=levels, area_prefix=area or "", match_threshold=match, review_threshold=review
        )
    figures = [_figure(row) for row in rows if _shown(principal, row, level, area)]
    return IndicatorReport(
        as_of=as_of,
        source=source,
        level=level,
        area=area,
        jurisdiction=list(principal.jurisdiction) if principal.jurisdiction else None,
        figures=figures,
    )


def _shown(principal: Principal, row: IndicatorRow, level: str | None, area: str | None) -> bool:
    if row.area == "all":
        return principal.jurisdiction is None and area is None
    if level is not None and row.level != level:
        return False
    return row.area.startswith(area or "") and principal.covers(row.area)


def _figure(row: IndicatorRow) -> IndicatorFigure:
    return IndicatorFigure(**{key: value for key, value in asdict(row).items() if key in IndicatorFigure.model_fields})


def admit_planner(principal: Principal) -> None:
    if principal.role not in PLANNERS:
        raise Forbidden(f"role {principal.role} may not read the indicators (planner or admin)")


def check_date(as_of: dt.date) -> None:
    if not EARLIEST <= as_of <= LATEST:
        raise InvalidRequest(f"as_of {as_of}: give a date between {EARLIEST} and {LATEST}")


def _area(area: str | None) -> str | None:
    """None for everywhere; else a code prefix of 1-6 digits (the API's parameter pattern already says so)."""
    if area in (None, "", "all"):
        return None
    if not (area.isdigit() and len(area) <= 6):
        raise InvalidRequest(f"area {area!r}: give a district (6 digits), city (4) or province (2) code, or 'all'")
    return area


def linkage_thresholds(engine: Engine) -> tuple[float, float]:
    """The match and review thresholds of the index's latest completed link run (what its links were cut at)."""
    latest = select(func.max(linkage_run.c.id)).where(linkage_run.c.status == "done").scalar_subquery()
    query = select(linkage_run.c.match_threshold, linkage_run.c.review_threshold).where(linkage_run.c.id == latest)
    with engine.connect() as connection:
        found = connection.execute(query).first()
    return (float(found[0]), float(found[1])) if found else (0.999, 0.5)


def latest_snapshot_date(engine: Engine) -> dt.date | None:
    with engine.connect() as connection:
        day: dt.date | None = connection.execute(select(func.max(indicator_snapshot.c.as_of))).scalar()
    return day


def month_ends(as_of: dt.date, count: int = TREND_MONTHS) -> list[dt.date]:
    """The last `count` month-ends on or before `as_of`, oldest first (as_of itself when it is one)."""
    year, month = as_of.year, as_of.month
    if as_of.day != calendar.monthrange(year, month)[1]:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    ends = []
    for _ in range(count):
        ends.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[::-1]


def indicator_trend(engine: Engine, principal: Principal, *, indicator: str, area: str | None, as_of: dt.date) -> list[TrendPoint]:
    """The indicator's rate in `area` at each of the last twelve month-ends that has a snapshot (none is computed
    here: a month-end without one is simply absent, and the pages say how many of twelve there are)."""
    admit_planner(principal)
    check_date(as_of)
    area = _area(area)
    _within_token(principal, area)
    rows = read_series(engine, indicator=indicator, area=area or "all", dates=month_ends(as_of))
    return [TrendPoint(as_of=row.as_of, rate=row.rate, ci_low=row.ci_low, ci_high=row.ci_high, denominator=row.denominator) for row in rows]


@dataclass(frozen=True)
class AreaView:
    """One area's figures and its children's (the next level down), per indicator: what a drill-down page shows."""

    area: str | None  # None: everywhere
    child_level: str | None  # None: a district, which has no children (its worklists are next)
    report: IndicatorReport
    own: dict[str, IndicatorFigure]
    children: dict[str, list[IndicatorFigure]]
    parents: list[str]  # the wider areas above it, widest first, that the caller may open
    trend_dates: list[dt.date]  # the last twelve month-ends
    trends: dict[str, list[TrendPoint]]  # per indicator, the month-ends that have a snapshot


def area_view(engine: Engine, principal: Principal, *, as_of: dt.date, area: str | None) -> AreaView:
    """The area's own figures and those one level down; a caller with one prefix starts at its jurisdiction."""
    area = _area(area)
    if area is None and principal.jurisdiction is not None:
        area = principal.jurisdiction[0]
    child_level = _CHILD_LEVEL.get(len(area or ""))
    report = indicator_report(engine, principal, as_of=as_of, area=area)
    own = {figure.indicator: figure for figure in report.figures if figure.area == (area or "all")}
    children: dict[str, list[IndicatorFigure]] = {}
    for figure in report.figures:
        if figure.level == child_level and figure.area != area:
            children.setdefault(figure.indicator, []).append(figure)
    widths = [width for width in (2, 4) if area and len(area) > width]
    parents = [area[:width] for width in widths if area and principal.covers(area[:width])]
    if principal.jurisdiction is None and area is not None:
        parents.insert(0, "all")
    dates = month_ends(as_of)
    trends = {
        indicator.id: indicator_trend(engine, principal, indicator=indicator.id, area=area, as_of=as_of)
        for indicator in load_definitions().indicators
    }
    return AreaView(area, child_level, report, own, children, parents, dates, trends)


def person_indicators(definitions: Definitions | None = None) -> tuple[Indicator, ...]:
    """The indicators that count persons: the ones with a worklist."""
    return tuple(indicator for indicator in (definitions or load_definitions()).indicators if indicator.unit == "person")


def may_read_worklists(principal: Principal, subscriptions: Mapping[str, Subscription]) -> bool:
    """Whether the caller's role could read some worklist (the pages show the way to them only then)."""
    if principal.role == "admin":
        return True
    subscription = subscriptions.get(principal.subject)
    return principal.role == "subscriber" and subscription is not None and subscription.department == "health"


def default_worklist_area(principal: Principal, subscriptions: Mapping[str, Subscription]) -> str:
    """Where a worklist page opens when no area is asked for: a health subscriber's first prefix, the token's, or all."""
    subscription = subscriptions.get(principal.subject) if principal.role == "subscriber" else None
    if subscription is not None:
        return subscription.jurisdiction[0]
    return principal.jurisdiction[0] if principal.jurisdiction else "all"


def admit_worklist(principal: Principal, subscriptions: Mapping[str, Subscription], area: str | None) -> None:
    """Forbidden unless the caller may read the names of the persons due a service in `area`."""
    if not may_read_worklists(principal, subscriptions):
        raise Forbidden(f"role {principal.role} may not read a worklist: it names persons (admin, or a health department's subscriber)")
    if principal.role == "subscriber":
        subscription = subscriptions[principal.subject]
        if area is None or not subscription.covers(area):
            raise Forbidden(
                f"area {area or 'all'} is outside {subscription.name}'s jurisdiction ({', '.join(subscription.jurisdiction)}): "
                "name a district, city or province inside it"
            )
    _within_token(principal, area)


def _within_token(principal: Principal, area: str | None) -> None:
    """Forbidden when the area (None: everywhere) reaches beyond the jurisdiction the caller's token carries."""
    if (area is None and principal.jurisdiction is not None) or (area is not None and not principal.covers(area)):
        raise Forbidden(f"area {area or 'all'} is outside your jurisdiction ({', '.join(principal.jurisdiction or ())})")


def worklist_report(
    engine: Engine, principal: Principal, subscriptions: Mapping[str, Subscription], *, indicator: str, area: str | None, as_of: dt.date
) -> Worklist:
    """The persons `indicator` counts in `area` who were not served as of the date, longest due first."""
    check_date(as_of)
    definitions = load_definitions()
    try:
        definition = definitions.indicator(indicator)
    except ConfigError as error:
        raise UnknownIndicator(str(error)) from None
    area = _area(area)
    admit_worklist(principal, subscriptions, area)
    if definition.unit != "person":
        raise InvalidRequest(f"indicator {indicator} counts {definition.unit}s, not persons: it has no worklist")
    rows = compute_worklist(engine, indicator_id=indicator, as_of=as_of, area_prefix=area or "", definitions=definitions)
    persons = [
        WorklistPerson(
            **{key: value for key, value in asdict(row).items() if key in WorklistPerson.model_fields and key != "record_keys"},
            record_keys=row.record_keys.split(),
        )
        for row in rows
    ]
    return Worklist(indicator=indicator, area=area or "all", as_of=as_of, definition_version=definitions.version, persons=persons)
