"""The indicators' truth, computed from the generator and not through the index, and the index measured against it.

Truth: each generated feed row (as ingested: the store's current source records and service events, which are
the feeds' rows standardised, before any linkage) is grouped by the person truth.csv says it is; a person's birth
date and sex are the generator's own (synthetic.population, rebuilt from the feeds' manifest), and the
immunization schedule is the generator's (synthetic.health_events.VACCINES), not the definitions' file. Each
indicator is then computed per true person here, in plain Python, written again from the issue's table rather
than from mmi.indicators' predicates, so the two implementations check each other.

    python -m bench.indicators_truth --feeds bench/results/feeds-20000 --store sqlite:///…/index.db --as-of 2026-10-31

prints, per indicator, the index's rate and the truth in total and for every city whose true denominator is at
least 200, the largest gap, and each worklist's precision and recall against the truly unserved; appends the
figures to bench/results/indicators_truth.jsonl.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from bench.feeds import RESULTS
from mmi.indicators import compute_indicators, compute_worklist
from mmi.store.tables import service_event, source_record
from synthetic.health_events import VACCINES
from synthetic.population import build_population, truth_key

PERSON_INDICATORS = (
    "health_record",
    "child_vaccination",
    "child_vaccination_schedule",
    "family_planning",
    "health_education",
    "registration_completeness",
)
MIN_CITY_DENOMINATOR = 200


def back(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass
class TruePerson:
    birth: dt.date
    sex: str
    registrations: list[tuple[str, dt.date, bool]] = field(default_factory=list)  # district, start, cancelled
    record_dates: list[dt.date] = field(default_factory=list)  # health_record_date of health records
    surveys: list[tuple[str, str]] = field(default_factory=list)  # wave, district
    services: list[tuple[str, dt.date, dict[str, Any]]] = field(default_factory=list)

    def registration(self) -> tuple[str, dt.date] | None:
        current = [(start, district) for district, start, cancelled in self.registrations if not cancelled]
        if not current:
            return None
        start, district = max(current)
        return district, start

    def age(self, on: dt.date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))


def true_people(feeds: Path, store_url: str) -> dict[str, TruePerson]:
    """Every true person with a record, their records' facts attached by truth.csv."""
    manifest = json.loads((feeds / "generator.json").read_text(encoding="utf-8"))
    population = {truth_key(p.index): p for p in build_population(manifest["people"], manifest["seed"])}
    with open(feeds / "truth.csv", encoding="utf-8", newline="") as handle:
        truth = {(row["department"], row["source_key"]): row["person"] for row in csv.DictReader(handle)}
    people: dict[str, TruePerson] = {}

    def person(key: str) -> TruePerson:
        if key not in people:
            people[key] = TruePerson(population[key].birth, population[key].sex)
        return people[key]

    engine = create_engine(store_url)
    r = source_record.c
    with engine.connect() as connection:
        for department, key, district, start, cancelled, record_date, wave in connection.execute(
            select(
                r.department,
                r.source_key,
                r.current_district,
                r.residence_start,
                r.registration_cancelled,
                r.health_record_date,
                r.survey_wave,
            ).where(r.is_current.is_(True))
        ):
            owner = truth.get((department, key))
            if owner is None:
                continue
            if department == "public_security":
                person(owner).registrations.append((district, start, bool(cancelled)))
            elif department == "health" and record_date:
                person(owner).record_dates.append(record_date)
            elif department == "statistics":
                person(owner).surveys.append((wave, district))
        s = service_event.c
        for person_key, service_type, day, detail in connection.execute(
            select(s.person_key, s.service_type, s.service_date, s.detail).where(s.is_current.is_(True))
        ):
            owner = truth.get(("health", person_key))
            if owner is not None:
                person(owner).services.append((service_type, day, json.loads(detail)))
    engine.dispose()
    return people


def _had(p: TruePerson, kind: str, a: dt.date, after: dt.date | None = None) -> bool:
    return any(t == kind and day is not None and day <= a and (after is None or day > after) for t, day, _ in p.services)


def _schedule_ok(p: TruePerson, a: dt.date) -> bool:
    given = {(d["vaccine"], d["dose"]) for t, day, d in p.services if t == "VACCINATION" and day <= a}
    return all((v, n) in given for v, n, months in VACCINES if p.birth <= back(a, months))


def person_units(people: dict[str, TruePerson], a: dt.date) -> dict[str, list[tuple[str, str, bool]]]:
    """Per indicator: (true person or report, district, served) of every unit in its population."""
    units: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    year = back(a, 12)
    for key, p in people.items():
        reg = p.registration()
        if p.surveys:
            units["registration_completeness"].append((key, max(p.surveys)[1], bool(p.registrations)))
        if reg is None:
            continue
        district, start = reg
        age = p.age(a)
        if start <= back(a, 6):
            served = any(day <= a for day in p.record_dates) or _had(p, "HEALTH_RECORD", a)
            units["health_record"].append((key, district, served))
        if 0 <= age <= 6 and start <= back(a, 3):
            units["child_vaccination"].append((key, district, _had(p, "VACCINATION", a)))
            units["child_vaccination_schedule"].append((key, district, _schedule_ok(p, a)))
        if p.sex == "2" and 15 <= age <= 49:
            units["family_planning"].append((key, district, _had(p, "FAMILY_PLANNING", a, year)))
        units["health_education"].append((key, district, _had(p, "HEALTH_EDUCATION", a, year)))
        for number, (kind, day, detail) in enumerate(p.services):
            if kind != "INFECTIOUS_DISEASE_REPORT":
                continue
            diagnosed = dt.date.fromisoformat(detail.get("diagnosis_date") or day.isoformat())
            reported = detail.get("report_date")
            if year < diagnosed <= a:
                on_time = reported is not None and dt.date.fromisoformat(reported) <= diagnosed + dt.timedelta(days=1)
                units["disease_report_timeliness"].append((f"{key}/{number}", district, on_time))
    return units


def rates(units: list[tuple[str, str, bool]]) -> dict[str, tuple[int, int]]:
    """(served, units) in total and per city."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _key, district, served in units:
        for area in ("all", (district or "")[:4]):
            if area:
                counts[area][0] += served
                counts[area][1] += 1
    return {area: (num, den) for area, (num, den) in counts.items()}


def worklist_scores(store_url: str, feeds: Path, units: dict[str, list[tuple[str, str, bool]]], a: dt.date) -> dict[str, dict[str, float]]:
    """Each person indicator's worklist (all areas) against the truly unserved: precision and recall."""
    with open(feeds / "truth.csv", encoding="utf-8", newline="") as handle:
        truth = {f"{row['department']}|{row['source_key']}": row["person"] for row in csv.DictReader(handle)}
    engine = create_engine(store_url)
    scores = {}
    for indicator in PERSON_INDICATORS:
        started = time.monotonic()
        rows = compute_worklist(engine, indicator_id=indicator, as_of=a, area_prefix="")
        seconds = time.monotonic() - started
        listed = []
        for row in rows:  # a master is the true person most of its records are
            owners = Counter(truth[key] for key in row.record_keys.split() if key in truth)
            listed.append(owners.most_common(1)[0][0] if owners else None)
        unserved = {key for key, _district, served in units[indicator] if not served}
        hits = sum(1 for owner in listed if owner in unserved)
        found = len(unserved & set(listed))
        scores[indicator] = {
            "listed": len(rows),
            "truly_unserved": len(unserved),
            "precision": hits / len(rows) if rows else 1.0,
            "recall": found / len(unserved) if unserved else 1.0,
            "seconds": round(seconds, 2),
        }
    engine.dispose()
    return scores


def compare(feeds: Path, store_url: str, a: dt.date) -> dict[str, Any]:
    units = person_units(true_people(feeds, store_url), a)
    engine = create_engine(store_url)
    index = {(row.indicator, row.area): row for row in compute_indicators(engine, as_of=a, levels=("city",))}
    engine.dispose()
    table = []
    for indicator in sorted({key[0] for key in index}):
        for area, (num, den) in sorted(rates(units[indicator]).items()):
            if area != "all" and den < MIN_CITY_DENOMINATOR:
                continue
            row = index.get((indicator, area))
            rate = row.rate if row and row.rate is not None else None
            table.append(
                {
                    "indicator": indicator,
                    "area": area,
                    "true_denominator": den,
                    "true_rate": num / den if den else None,
                    "index_denominator": row.denominator if row else 0,
                    "index_rate": rate,
                    "gap_points": abs(rate - num / den) * 100 if rate is not None and den else None,
                }
            )
    return {"rates": table, "worklists": worklist_scores(store_url, feeds, units, a)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--store", required=True, help="the SQLAlchemy URL of the store the feeds were ingested and linked into")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    args = parser.parse_args()
    result = compare(args.feeds, args.store, args.as_of)
    print(f"{'indicator':<28} {'area':<5} {'true den':>8} {'true':>7} {'index':>7} {'gap pt':>6}")
    for row in result["rates"]:
        index = f"{row['index_rate']:.4f}" if row["index_rate"] is not None else "-"
        gap = f"{row['gap_points']:.2f}" if row["gap_points"] is not None else "-"
        print(f"{row['indicator']:<28} {row['area']:<5} {row['true_denominator']:>8} {row['true_rate']:>7.4f} {index:>7} {gap:>6}")
    gaps = [row["gap_points"] for row in result["rates"] if row["gap_points"] is not None]
    print(f"largest gap: {max(gaps):.2f} points over {len(gaps)} rates")
    for indicator, score in result["worklists"].items():
        print(
            f"worklist {indicator:<28} listed {score['listed']:>6} truly unserved {score['truly_unserved']:>6} "
            f"precision {score['precision']:.4f} recall {score['recall']:.4f} ({score['seconds']} s)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "indicators_truth.jsonl", "a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"feeds": str(args.feeds), "as_of": args.as_of.isoformat(), "largest_gap_points": max(gaps), **result}) + "\n"
        )


if __name__ == "__main__":
    main()
