"""The named predicates the definitions compose, each one SQL condition over a unit of the indicator frame.

The frame (mmi.indicators.frame) has a row `p` per person (its registration, golden birth date and sex, survey
district, health record date, which departments it is linked to), the person's `services` and, for indicators
counting reports, a row `r` per infectious-disease report. A predicate turns its parameters and the date A into
a condition on those rows; for the worklist it also says since when it has held (`since`: a population
predicate's start, so a person's due date is the latest of them) and, for a served predicate, what is missing.

Dates are computed here in Python ("A − N months" by `months_before`) and written as DATE literals: the
definitions' calendar rules live in one place, not in each database's date arithmetic.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.registry import DEPARTMENTS
from schemas.canonical import SERVICE_TYPES
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.indicators.definitions import Indicator, Predicate


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier, or that month's last day when it has no such day."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def lit(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _service_exists(service_type: str, after: dt.date | None, as_of: dt.date) -> str:
    window = f" AND s.service_date > {lit(after)}" if after else ""
    return (
        f"EXISTS (SELECT 1 FROM services s WHERE s.pid = p.pid AND s.service_type = '{service_type}'"
        f" AND s.service_date <= {lit(as_of)}{window})"
    )


def _last_service_plus(service_type: str, months: int, as_of: dt.date) -> str:
    """When a person served before the window fell due again: their last such service, plus the window."""
    return (
        f"(SELECT CAST(max(s.service_date) + INTERVAL {months} MONTH AS DATE) FROM services s WHERE s.pid = p.pid"
        f" AND s.service_type = '{service_type}' AND s.service_date <= {lit(as_of)})"
    )


def _schedule_up_to_date(as_of: dt.date) -> str:
    """No dose of the schedule that fell due by the child's age at A is missing (the `schedule_due` table holds
    each dose with the latest birth date for which it is due at A)."""
    return (
        "NOT EXISTS (SELECT 1 FROM schedule_due d WHERE p.birth_date <= d.born_by AND NOT EXISTS ("
        "SELECT 1 FROM services s WHERE s.pid = p.pid AND s.service_type = 'VACCINATION' AND s.vaccine = d.vaccine"
        f" AND s.dose = d.dose AND s.service_date <= {lit(as_of)}))"
    )


Sql = Callable[[dict[str, object], dt.date], str]


@dataclass(frozen=True)
class Spec:
    role: str  # population or served
    params: dict[str, type]
    sql: Sql
    since: Sql | None = None  # population: since when it held; served: when it fell due again (NULL: never served)
    unmet: str | None = None  # served: what is missing, in English, from the parameters and `as_of` (str.format)
    units: tuple[str, ...] = ("person", "disease_report")


def _age_sql(params: dict[str, object], as_of: dt.date) -> str:
    low, high = int(str(params["low"])), int(str(params["high"]))
    return f"p.birth_date <= {lit(months_before(as_of, 12 * low))} AND p.birth_date > {lit(months_before(as_of, 12 * (high + 1)))}"


PREDICATES: dict[str, Spec] = {
    "registered": Spec("population", {}, lambda _, __: "p.registered", since=lambda _, __: "p.residence_start"),
    "resident_at_least": Spec(
        "population",
        {"months": int},
        lambda q, a: f"p.residence_start <= {lit(months_before(a, int(str(q['months']))))}",
        since=lambda q, _: f"CAST(p.residence_start + INTERVAL {int(str(q['months']))} MONTH AS DATE)",
    ),
    "age_between": Spec(
        "population",
        {"low": int, "high": int},
        _age_sql,
        since=lambda q, _: f"CAST(p.birth_date + INTERVAL {int(str(q['low']))} YEAR AS DATE)",
    ),
    "sex": Spec("population", {"code": str}, lambda q, _: f"p.sex = '{q['code']}'"),
    "surveyed": Spec("population", {}, lambda _, __: "p.surveyed"),
    "diagnosed_within": Spec(
        "population",
        {"months": int},
        lambda q, a: f"r.diagnosis_date > {lit(months_before(a, int(str(q['months']))))} AND r.diagnosis_date <= {lit(a)}",
        units=("disease_report",),
    ),
    "health_record_established": Spec(
        "served",
        {},
        lambda _, a: f"(p.health_record_date <= {lit(a)} OR {_service_exists('HEALTH_RECORD', None, a)})",
        unmet="no standardized health record on or before {as_of}",
    ),
    "service_on_or_before": Spec(
        "served",
        {"service_type": str},
        lambda q, a: _service_exists(str(q["service_type"]), None, a),
        unmet="no {service_type} on or before {as_of}",
    ),
    "service_within": Spec(
        "served",
        {"service_type": str, "months": int},
        lambda q, a: _service_exists(str(q["service_type"]), months_before(a, int(str(q["months"]))), a),
        since=lambda q, a: _last_service_plus(str(q["service_type"]), int(str(q["months"])), a),
        unmet="no {service_type} in the {months} months to {as_of}",
    ),
    "vaccination_schedule_up_to_date": Spec(
        "served", {}, lambda _, a: _schedule_up_to_date(a), unmet="a dose of the immunization schedule due by {as_of} is missing"
    ),
    "reported_within": Spec(
        "served",
        {"days": int},
        lambda q, _: (
            f"(r.report_date IS NOT NULL AND r.report_date <= CAST(r.diagnosis_date + INTERVAL {int(str(q['days']))} DAY AS DATE))"
        ),
        units=("disease_report",),
    ),
    "linked_to": Spec(
        "served",
        {"department": str},
        lambda q, _: f"p.has_{q['department']}",
        unmet="not linked to any {department} record",
    ),
}


def check_predicate(indicator: Indicator, predicate: Predicate, role: str) -> None:
    """Refuse a predicate the registry does not know, in the wrong list (`role`), or with wrong parameters."""
    spec = PREDICATES.get(predicate.name)
    where = f"indicator {indicator.id}: predicate {predicate.name!r}"
    if spec is None:
        raise ConfigError(f"{where} is not known (known: {', '.join(sorted(PREDICATES))})")
    if spec.role != role or indicator.unit not in spec.units:
        raise ConfigError(f"{where} is a {spec.role} predicate for units {spec.units}, not {role} of a {indicator.unit}")
    params = dict(predicate.params)
    if set(params) != set(spec.params) or not all(isinstance(params[k], t) for k, t in spec.params.items()):
        raise ConfigError(f"{where} takes { ({k: t.__name__ for k, t in spec.params.items()}) }, got {params}")
    if "service_type" in params and params["service_type"] not in SERVICE_TYPES:
        raise ConfigError(f"{where}: service_type {params['service_type']!r} is not one of {SERVICE_TYPES}")
    if "department" in params and params["department"] not in DEPARTMENTS:
        raise ConfigError(f"{where}: department {params['department']!r} is not one of {DEPARTMENTS}")
    if "code" in params and not str(params["code"]).isdigit():
        raise ConfigError(f"{where}: sex code {params['code']!r} is not a GB/T 2261.1 code")


def condition(predicates: tuple[Predicate, ...], as_of: dt.date) -> str:
    """The predicates, all of them, as one SQL condition (TRUE when there are none)."""
    parts = [f"({PREDICATES[p.name].sql(dict(p.params), as_of)})" for p in predicates]
    return " AND ".join(parts) or "TRUE"


def since(predicates: tuple[Predicate, ...], as_of: dt.date) -> list[str]:
    """SQL expressions of the dates since which each predicate has held (or fell due again)."""
    found = [PREDICATES[p.name].since for p in predicates]
    return [make(dict(p.params), as_of) for p, make in zip(predicates, found, strict=True) if make is not None]


def unmet(predicates: tuple[Predicate, ...], as_of: dt.date) -> str:
    """What a person lacks, in English: the text of the worklist's files, CSV and API (the pages translate
    `unmet_parts` instead)."""
    return "; ".join(str(PREDICATES[name].unmet).format(**values) for name, values in unmet_parts(predicates, as_of))


def unmet_parts(predicates: tuple[Predicate, ...], as_of: dt.date) -> list[tuple[str, dict[str, str]]]:
    """What a person lacks, as (served predicate's name, its parameters and `as_of` as text): one message each in
    the pages' catalogues (`unmet.<name>`), so that a page in Chinese says it in Chinese."""
    return [
        (p.name, {**{key: str(value) for key, value in p.params}, "as_of": as_of.isoformat()})
        for p in predicates
        if PREDICATES[p.name].unmet is not None
    ]
