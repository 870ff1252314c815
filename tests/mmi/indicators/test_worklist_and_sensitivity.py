"""Worklists, linkage sensitivity, the snapshot table and the statistics, on SQLite and PostgreSQL.

The worklist lists exactly the unserved of the population, longest due first, with the guardian of a child whose
guardian's record is linked; the sensitivity columns move when the review band would join a service to a person
and when a master rests on a weak link; the snapshot of a date is replaced, not doubled; Wilson and Chapman give
their textbook values; and a definitions file with a mistake is refused with a message naming it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mmi.indicators import compute_indicators, compute_worklist, read_snapshot, snapshot_indicators
from mmi.indicators.compute import chapman, wilson
from mmi.indicators.definitions import DEFINITIONS_DIR, load_definitions
from mmi.store.database import open_store
from schemas.errors import ConfigError
from tests.mmi.indicators.builder import StoreBuilder

A = dt.date(2026, 8, 31)


@pytest.fixture
def store(store_url: str) -> Engine:
    return open_store(store_url)


@pytest.fixture
def build(store: Engine) -> StoreBuilder:
    return StoreBuilder(store)


def test_the_worklist_lists_the_unserved_longest_due_first_with_a_linked_guardian(store: Engine, build: StoreBuilder) -> None:
    parent = build.person("MP", birth=dt.date(1990, 1, 1), sex="2", name="王芳", phone="13800000000", id_number="410105199001010027")
    child_health = build.record("health", guardian_id_number="410105199001010027", birth_date=dt.date(2022, 3, 1))
    child_ps = build.record(
        "public_security", current_district="410105", residence_start=dt.date(2024, 1, 10), registration_cancelled=False
    )
    build.master("MC", [child_ps, child_health], birth_date=dt.date(2022, 3, 1), sex="1", name="王小明", current_address="金水路1号")
    build.person("MD", birth=dt.date(2021, 5, 1), district="410102", start=dt.date(2023, 2, 1), name="李四")
    served = build.person("MS", birth=dt.date(2021, 5, 1), start=dt.date(2023, 2, 1), health=True)
    build.service(served["health"], "VACCINATION", dt.date(2023, 3, 1), vaccine="MMR", dose=2)
    build.person("MX", birth=dt.date(2021, 5, 1), district="440305", start=dt.date(2023, 2, 1))  # another city
    rows = compute_worklist(store, indicator_id="child_vaccination", as_of=A, area_prefix="4101")
    assert [row.master_id for row in rows] == ["MD", "MC"]  # due since 2023-05-01, then 2024-04-10
    assert [row.due_since for row in rows] == [dt.date(2023, 5, 1), dt.date(2024, 4, 10)]
    child = rows[1]
    assert (child.name, child.age, child.district, child.address, child.residence_start) == (
        "王小明",
        4,
        "410105",
        "金水路1号",
        dt.date(2024, 1, 10),
    )
    assert (child.guardian_name, child.guardian_phone) == ("王芳", "13800000000")
    assert child.record_keys.split() == sorted([child_ps, child_health]) and child.unmet.startswith("no VACCINATION")
    assert rows[0].guardian_name is None and parent
    assert [row.master_id for row in compute_worklist(store, indicator_id="child_vaccination", as_of=A, area_prefix="all")] == [
        "MD",
        "MX",
        "MC",
    ]
    with pytest.raises(ConfigError, match="counts disease_reports"):
        compute_worklist(store, indicator_id="disease_report_timeliness", as_of=A)


def test_a_periodic_service_falls_due_again_a_window_after_the_last_one(store: Engine, build: StoreBuilder) -> None:
    woman = build.person("MW", birth=dt.date(1990, 1, 1), sex="2", start=dt.date(2018, 1, 1), health=True)
    build.service(woman["health"], "FAMILY_PLANNING", dt.date(2025, 3, 15), service="GUIDANCE")
    [row] = compute_worklist(store, indicator_id="family_planning", as_of=A)
    assert row.due_since == dt.date(2026, 3, 15)


def test_sensitivity_moves_with_the_review_band_and_with_only_the_most_certain_links(store: Engine, build: StoreBuilder) -> None:
    # A registered woman whose health record (with the service) the index left out, joined by a review-band pair.
    woman = build.person("M1", birth=dt.date(1990, 1, 1), sex="2")
    health = build.record("health")
    build.master("M2", [health], birth_date=dt.date(1990, 1, 1), sex="2")
    build.service(health, "FAMILY_PLANNING", dt.date(2026, 5, 1), service="GUIDANCE")
    build.pair(woman["ps"], health, 0.8)
    # Another, served through a link the index made but which is not among the most certain.
    ps = build.record("public_security", current_district="410105", residence_start=dt.date(2020, 1, 1), registration_cancelled=False)
    weak_health = build.record("health")
    build.master("M3", [ps, weak_health], birth_date=dt.date(1991, 1, 1), sex="2")
    build.service(weak_health, "FAMILY_PLANNING", dt.date(2026, 5, 1), service="GUIDANCE")
    build.pair(ps, weak_health, 0.9995)
    [row] = [r for r in compute_indicators(store, as_of=A, indicator_ids=["family_planning"]) if r.area == "all"]
    assert (row.numerator, row.denominator, row.rate) == (1, 2, 0.5)
    assert row.rate_with_review_links == 1.0 and row.rate_certain_links_only == 0.0


def test_the_snapshot_of_a_day_is_replaced_and_trends_are_a_query(store: Engine, build: StoreBuilder) -> None:
    build.person("M1", birth=dt.date(1990, 1, 1))
    first = snapshot_indicators(store, as_of=dt.date(2026, 7, 31))
    snapshot_indicators(store, as_of=A)
    again = snapshot_indicators(store, as_of=A)
    assert first["rows"] == again["rows"] and again["linkage_run_id"] == build.run
    stored = read_snapshot(store, level="all")
    assert [(row.as_of, row.indicator) for row in stored if row.indicator == "health_education"] == [
        (dt.date(2026, 7, 31), "health_education"),
        (A, "health_education"),
    ]
    assert read_snapshot(store, as_of=A) == compute_indicators(store, as_of=A)


def test_wilson_and_chapman_give_their_textbook_values() -> None:
    low, high = wilson(81, 263)  # Wilson (1927) / Newcombe (1998) example: 0.2553 to 0.3662
    assert low is not None and high is not None and round(low, 4) == 0.2553 and round(high, 4) == 0.3662
    assert wilson(0, 0) == (None, None)
    estimate, low_n, high_n = chapman(100, 80, 40) or (0, 0, 0)
    assert round(estimate, 2) == round(101 * 81 / 41 - 1, 2) and low_n >= 140 and high_n > estimate


def test_a_definitions_file_with_a_mistake_is_refused_naming_it(tmp_path: Path) -> None:
    source = (DEFINITIONS_DIR / "v1.toml").read_text(encoding="utf-8")
    (tmp_path / "immunization_schedule_v1.toml").write_text((DEFINITIONS_DIR / "immunization_schedule_v1.toml").read_text(encoding="utf-8"))
    cases = {
        'predicate = "resident_at_least", months = 6': ('predicate = "resident_for", months = 6', "resident_for.*not known"),
        'service_type = "FAMILY_PLANNING", months = 12': ('service_type = "FAMILY_PLAN", months = 12', "FAMILY_PLAN"),
        'served = [{ predicate = "health_record_established" }]': ('served = [{ predicate = "registered" }]', "population predicate"),
        "target = 0.80": ("target = 80", "not a share"),
    }
    for original, (broken, message) in cases.items():
        (tmp_path / "v1.toml").write_text(source.replace(original, broken, 1), encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_definitions("v1", tmp_path)
    assert load_definitions().version == "v1" and len(load_definitions().schedule) == 21
