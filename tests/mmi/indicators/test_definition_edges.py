"""Each definition's edges, on SQLite and PostgreSQL: who is counted, where, and whether served, as of A.

Each test builds the store holding exactly its case (tests/mmi/indicators/builder.py) and reads the indicator
rows `compute_indicators` returns: the edges the issue names (a child turning 7 on A, residence exactly six
months, a cancelled registration, a person moved between districts, a report the day after diagnosis, a service on
A and one on A − 12 months), and the calendar rule for "A − N months" at a month's end.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from mmi.indicators import IndicatorRow, compute_indicators
from mmi.indicators.predicates import months_before
from mmi.store.database import open_store
from tests.mmi.indicators.builder import StoreBuilder

A = dt.date(2026, 8, 31)


@pytest.fixture
def store(store_url: str) -> Engine:
    return open_store(store_url)


@pytest.fixture
def build(store: Engine) -> StoreBuilder:
    return StoreBuilder(store)


def rows(store: Engine, indicator: str, as_of: dt.date = A) -> dict[str, IndicatorRow]:
    return {row.area: row for row in compute_indicators(store, as_of=as_of, indicator_ids=[indicator])}


def counts(store: Engine, indicator: str, area: str = "all", as_of: dt.date = A) -> tuple[int, int]:
    row = rows(store, indicator, as_of).get(area)
    return (row.numerator, row.denominator) if row else (0, 0)


def test_a_month_back_is_the_same_day_or_that_months_last_day() -> None:
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2028, 8, 31), 6) == dt.date(2028, 2, 29)
    assert months_before(dt.date(2026, 10, 15), 12) == dt.date(2025, 10, 15)
    assert months_before(dt.date(2026, 1, 31), 1) == dt.date(2025, 12, 31)


def test_a_child_turning_7_on_A_is_no_longer_counted_and_one_a_day_younger_is(store: Engine, build: StoreBuilder) -> None:
    build.person("M1", birth=dt.date(2019, 8, 31))  # 7 on A
    build.person("M2", birth=dt.date(2019, 9, 1))  # 6 until tomorrow
    young = build.person("M3", birth=dt.date(2026, 8, 31), start=dt.date(2026, 5, 1), health=True)  # born on A: age 0
    build.service(young["health"], "VACCINATION", A, vaccine="HepB", dose=1)
    assert counts(store, "child_vaccination") == (1, 2)  # M2 (not served) and M3 (vaccinated on A)


def test_residence_exactly_six_months_counts_one_day_less_does_not(store: Engine, build: StoreBuilder) -> None:
    build.person("M1", birth=dt.date(1990, 1, 1), start=dt.date(2026, 2, 28))  # A − 6 months (February's last day)
    build.person("M2", birth=dt.date(1990, 1, 1), start=dt.date(2026, 3, 1))
    served = build.person("M3", birth=dt.date(1990, 1, 1), start=dt.date(2025, 1, 1), health=True)
    build.service(served["health"], "HEALTH_RECORD", dt.date(2025, 3, 1), record_no="X")
    assert counts(store, "health_record") == (1, 2)
    # A health record dated after A does not count as established by A.
    late = build.person("M4", birth=dt.date(1990, 1, 1), start=dt.date(2025, 1, 1))
    build.master("M4H", [build.record("health", health_record_date=dt.date(2026, 9, 1))])
    assert late and counts(store, "health_record") == (1, 3)


def test_a_cancelled_registration_is_not_registered(store: Engine, build: StoreBuilder) -> None:
    build.person("M1", birth=dt.date(1990, 1, 1), cancelled=True)
    build.person("M2", birth=dt.date(1990, 1, 1))
    assert counts(store, "health_education") == (0, 1)
    # ... but it is a link to public security, for registration completeness
    surveyed = build.record("statistics", current_district="410105", survey_wave="2026Q2")
    ps_only_cancelled = build.record(
        "public_security", current_district="410105", residence_start=dt.date(2020, 1, 1), registration_cancelled=True
    )
    build.master("M3", [surveyed, ps_only_cancelled])
    build.master("M4", [build.record("statistics", current_district="410105", survey_wave="2026Q2")])
    assert counts(store, "registration_completeness", "410105") == (1, 2)


def test_a_person_moved_between_districts_counts_in_the_new_district_only(store: Engine, build: StoreBuilder) -> None:
    old = build.record("public_security", current_district="410102", residence_start=dt.date(2019, 1, 1), registration_cancelled=True)
    new = build.record("public_security", current_district="410105", residence_start=dt.date(2025, 6, 1), registration_cancelled=False)
    health = build.record("health", current_district="410102")
    build.master("M1", [old, new, health], birth_date=dt.date(1990, 1, 1), sex="1")
    build.service(health, "HEALTH_RECORD", dt.date(2019, 3, 1))  # established in the old district: still theirs
    found = rows(store, "health_record")
    assert (found["410105"].numerator, found["410105"].denominator) == (1, 1)
    assert "410102" not in found and found["4101"].denominator == 1 and found["41"].denominator == 1
    # Two current registrations: the latest start decides both the area and the residence start.
    a = build.record("public_security", current_district="440106", residence_start=dt.date(2018, 1, 1), registration_cancelled=False)
    b = build.record("public_security", current_district="440305", residence_start=dt.date(2026, 5, 1), registration_cancelled=False)
    build.master("M2", [a, b], birth_date=dt.date(1990, 1, 1), sex="1")
    found = rows(store, "health_record")
    assert "440305" not in found and "440106" not in found  # resident in 440305 since May: not yet six months


def test_a_report_the_day_after_diagnosis_is_on_time_two_days_after_is_not(store: Engine, build: StoreBuilder) -> None:
    person = build.person("M1", birth=dt.date(1990, 1, 1), health=True)["health"]
    report = "INFECTIOUS_DISEASE_REPORT"
    build.service(person, report, dt.date(2026, 5, 1), diagnosis_date="2026-05-01", report_date="2026-05-02")
    build.service(person, report, dt.date(2026, 6, 1), diagnosis_date="2026-06-01", report_date="2026-06-03")
    build.service(person, report, dt.date(2026, 7, 1), diagnosis_date="2026-07-01", report_date="2026-07-01")
    build.service(person, report, dt.date(2025, 8, 31), diagnosis_date="2025-08-31", report_date="2025-08-31")  # A − 12 months: out
    unregistered = build.person("M2", birth=dt.date(1990, 1, 1), district=None, health=True)["health"]
    build.service(unregistered, report, dt.date(2026, 7, 1), diagnosis_date="2026-07-01", report_date="2026-07-09")
    assert counts(store, "disease_report_timeliness") == (2, 3)


def test_a_service_on_A_counts_and_one_on_A_minus_12_months_does_not(store: Engine, build: StoreBuilder) -> None:
    on_a = build.person("M1", birth=dt.date(1990, 1, 1), sex="2", health=True)["health"]
    build.service(on_a, "FAMILY_PLANNING", A, service="GUIDANCE")
    year_ago = build.person("M2", birth=dt.date(1990, 1, 1), sex="2", health=True)["health"]
    build.service(year_ago, "FAMILY_PLANNING", dt.date(2025, 8, 31), service="GUIDANCE")
    day_later = build.person("M3", birth=dt.date(1990, 1, 1), sex="2", health=True)["health"]
    build.service(day_later, "FAMILY_PLANNING", dt.date(2025, 9, 1), service="GUIDANCE")
    after_a = build.person("M4", birth=dt.date(1990, 1, 1), sex="2", health=True)["health"]
    build.service(after_a, "FAMILY_PLANNING", dt.date(2026, 9, 1), service="GUIDANCE")
    build.person("M5", birth=dt.date(1990, 1, 1), sex="1")  # a man: not in the population
    build.person("M6", birth=dt.date(1976, 8, 31), sex="2")  # 50 on A: out
    assert counts(store, "family_planning") == (2, 4)


def test_the_schedule_for_age_needs_every_dose_due_by_the_childs_age(store: Engine, build: StoreBuilder) -> None:
    born = dt.date(2026, 5, 31)  # 3 months old on A, resident since birth: doses due at 0, 1, 2 and 3 months
    due = (("HepB", 1), ("BCG", 1), ("HepB", 2), ("IPV", 1), ("IPV", 2), ("DTaP", 1))
    complete = build.person("M1", birth=born, start=born, health=True)["health"]
    for vaccine, dose in due:
        build.service(complete, "VACCINATION", born, vaccine=vaccine, dose=dose)
    missing = build.person("M2", birth=born, start=born, health=True)["health"]
    for vaccine, dose in due[:-1]:  # DTaP 1, due on A itself, not given
        build.service(missing, "VACCINATION", born, vaccine=vaccine, dose=dose)
    assert counts(store, "child_vaccination_schedule") == (1, 2)
    assert counts(store, "child_vaccination") == (2, 2)
