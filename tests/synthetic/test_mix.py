"""The population mix: shares of people come out as asked, truth stays sane, and the feeds follow the mix."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from linkage.standardise.idnumber import check_character
from synthetic import generate_delta, generate_feeds
from synthetic.mix import DEFAULT_MIX, PopulationMix
from synthetic.population import build_population


def _twins(people: list) -> int:  # type: ignore[type-arg]
    """People who share surname, birth date and home with someone not their parent (twins, twin babies)."""
    homes = Counter((p.surname, p.birth, p.address) for p in people)
    return sum(count for count in homes.values() if count >= 2)


def test_shares_of_people_come_out_as_asked_and_every_person_has_a_number_of_their_own() -> None:
    mix = PopulationMix(twins=0.05, namesakes=0.06)
    people = build_population(20_000, 5, mix=mix)
    assert 0.045 <= _twins(people) / len(people) <= 0.06  # twin babies of families add a little
    same_name_month = Counter((p.name, p.birth.strftime("%Y%m")) for p in people)
    assert 0.055 <= sum(c for c in same_name_month.values() if c >= 2) / len(people) <= 0.075
    numbers = Counter(p.id_number for p in people)
    assert max(numbers.values()) == 1  # no two people, twins included, share an ID number
    assert all(check_character(p.id_number[:17]) == p.id_number[17] for p in people)
    default = build_population(20_000, 5)
    assert _twins(default) / len(default) < 0.015


def test_a_mix_outside_its_range_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="twins must be a share"):
        PopulationMix(twins=1.5)
    with pytest.raises(ValueError, match="single migrants"):
        PopulationMix(twins=0.5, namesakes=0.5)
    assert PopulationMix.from_dict(DEFAULT_MIX.as_dict()) == DEFAULT_MIX


def test_records_without_an_id_and_coverage_follow_the_mix_and_the_delta_keeps_it(tmp_path: Path) -> None:
    generate_feeds(tmp_path / "plain", people=400, seed=3, noise=0.0)
    counts = generate_feeds(tmp_path / "mixed", people=400, seed=3, noise=0.0, mix=PopulationMix(no_id=0.3, coverage=0.5))
    assert counts["mix"]["no_id"] == 0.3
    with sqlite3.connect(tmp_path / "mixed" / "public_security" / "ga_jzdj.sqlite") as db:
        rows, without = db.execute("SELECT count(*), count(*) FILTER (WHERE GMSFHM IS NULL OR GMSFHM = '') FROM ga_jzdj").fetchone()
    assert 0.2 <= without / rows <= 0.4
    with sqlite3.connect(tmp_path / "plain" / "public_security" / "ga_jzdj.sqlite") as db:
        [(plain_rows,)] = db.execute("SELECT count(*) FROM ga_jzdj").fetchall()
    assert rows < 0.7 * plain_rows  # half the coverage
    delta = generate_delta(tmp_path / "mixed", seed=9, fraction=0.05)
    assert delta["arrivals"] > 0
