"""Randomised: over many small generated populations (seeded: twins, namesakes, noise, records without an ID and
the match threshold drawn at random), no master ever holds two different valid ID numbers unless a steward
must-linked them, and every match a conflict rule refused shows in the review export as a `conflict` with its rule.

The match threshold is drawn low on purpose (down to 0.5): the model then scores many twins and namesakes above
it, and only the conflict rules stand between them and a merged master.
"""

from __future__ import annotations

import csv
import dataclasses
import random
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from devtools.feeds import served_feeds
from linkage.conflicts import RULE_NAMES, ExcusedNumbers, Identity, find_conflict
from mmi.config import Settings, load_settings
from mmi.export import export_review
from mmi.index import add_constraint, link_index, train_and_store
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.index_tables import link_conflict, master_xref
from mmi.store.tables import source_record
from synthetic import generate_feeds
from synthetic.mix import PopulationMix

SEEDS = range(5)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_master_holds_two_valid_id_numbers_unless_must_linked(seed: int, store_url: str, tmp_path: Path) -> None:
    rng = random.Random(f"identity-conflicts/{seed}")
    mix = PopulationMix(twins=rng.uniform(0.04, 0.12), namesakes=rng.uniform(0.03, 0.10), no_id=rng.choice((0.0, 0.05, 0.15)))
    settings, engine = _ingested(
        tmp_path,
        store_url,
        people=rng.randint(200, 320),
        seed=seed,
        noise=rng.choice((0.5, 1.0, 3.0)),
        mix=mix,
        threshold=rng.choice((0.5, 0.9, 0.999)),
    )
    train_and_store(engine, trained_by="tests")
    link_index(settings, engine)
    _check_invariant(engine, must_linked=[])
    refused = _conflicts(engine)
    _check_review_export(engine, settings, tmp_path / "review.csv", refused)

    # A steward says two twins are one person: they join, and the invariant holds with that excuse only.
    twins = _twin_records(engine, rng)
    assert twins, "twins at 4% or more of people: some must carry two valid numbers"
    for left, right in twins:
        add_constraint(engine, "must_link", left, right, reason="test: one person after all", decided_by="steward")
    link_index(settings, engine)
    masters = _masters(engine)
    assert all(masters[left] == masters[right] for left, right in twins)
    _check_invariant(engine, must_linked=twins)
    _check_review_export(engine, settings, tmp_path / "review-after.csv", _conflicts(engine))


def test_the_random_populations_do_exercise_the_rules(store_url: str, tmp_path: Path) -> None:
    """With twins at 12% and a threshold of 0.5 the model scores twins above it: conflicts exist and are refused."""
    mix = PopulationMix(twins=0.12, namesakes=0.08)
    settings, engine = _ingested(tmp_path, store_url, people=300, seed=99, noise=1.0, mix=mix, threshold=0.5)
    train_and_store(engine, trained_by="tests")
    report = link_index(settings, engine)
    refused = _conflicts(engine)
    assert report.conflicts_refused == len(refused) > 0
    assert {row["rule"] for row in refused} <= set(RULE_NAMES)
    masters = _masters(engine)
    for row in refused:  # the two conflicting records ended in two masters, and their numbers do conflict
        assert masters[row["conflicting_left_key"]] != masters[row["conflicting_right_key"]]
        assert (row["left_master_id"], row["right_master_id"]) == (masters[row["left_key"]], masters[row["right_key"]])
    _check_review_export(engine, settings, tmp_path / "review.csv", refused)


def _ingested(
    tmp_path: Path, store_url: str, *, people: int, seed: int, noise: float, mix: PopulationMix, threshold: float
) -> tuple[Settings, Engine]:
    feeds = tmp_path / "feeds"
    generate_feeds(feeds, people=people, seed=seed, noise=noise, mix=mix)
    engine = open_store(store_url)
    with served_feeds(feeds) as served:
        loaded = load_settings(served.config)
        linkage = dataclasses.replace(
            loaded.linkage, workspace=tmp_path / "workspace.duckdb", match_threshold=threshold, review_threshold=min(0.1, threshold / 2)
        )
        settings = served.settings(store_url=store_url, linkage=linkage)
        assert all(report.error is None for report in ingest(settings, engine, parallel=False))
    return settings, engine


def _valid_numbers(engine: Engine) -> dict[str, Identity]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(source_record.c.department, source_record.c.source_key, source_record.c.id_number, source_record.c.quality_flags).where(
                source_record.c.is_current.is_(True), source_record.c.id_valid.is_(True)
            )
        ).all()
    return {f"{d}|{k}": Identity(number, "id_upgraded_from_15" not in flags) for d, k, number, flags in rows}


def _masters(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id)).all()
    return {f"{d}|{k}": master for d, k, master in rows}


def _check_invariant(engine: Engine, must_linked: list[tuple[str, str]]) -> None:
    """The issue's invariant, checked from the store alone: two different valid numbers in one master must have
    been joined by must-links (the generator never mistypes a 15-digit card, so there is no other excuse)."""
    numbers = _valid_numbers(engine)
    held: dict[str, dict[str, str]] = defaultdict(dict)
    for record, master in _masters(engine).items():
        if record in numbers:
            held[master].setdefault(numbers[record].id_number, record)
    excused = ExcusedNumbers(must_linked, numbers)
    for master, by_number in held.items():
        distinct = sorted(by_number)
        for i, a in enumerate(distinct):
            for b in distinct[i + 1 :]:
                assert excused.excused(a, b), f"master {master} holds {by_number[a]} and {by_number[b]}, two valid ID numbers"


def _conflicts(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(link_conflict)).mappings()]


def _check_review_export(engine: Engine, settings: Settings, out: Path, refused: list[dict[str, object]]) -> None:
    export_review(engine, out, settings.linkage.match_threshold)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    exported = {(row["left_key"], row["right_key"]): row for row in rows if row["kind"] == "conflict"}
    assert set(exported) == {(row["left_key"], row["right_key"]) for row in refused}
    numbers = _valid_numbers(engine)
    for row in refused:
        line = exported[(str(row["left_key"]), str(row["right_key"]))]
        assert line["rule"] == row["rule"] in RULE_NAMES and line["detail"]
        assert float(line["match_probability"]) >= settings.linkage.match_threshold
        conflict = find_conflict(numbers[line["conflicting_left_key"]], numbers[line["conflicting_right_key"]])
        assert conflict is not None and conflict.rule == line["rule"]
    assert all(
        row["kind"] == "pair" and float(row["match_probability"]) < settings.linkage.match_threshold
        for row in rows
        if row["kind"] != "conflict"
    )


def _twin_records(engine: Engine, rng: random.Random) -> list[tuple[str, str]]:
    """Up to two pairs of records of twins (same surname, birth date and ID region, two valid numbers)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(source_record.c.department, source_record.c.source_key, source_record.c.id_number, source_record.c.name)
            .where(source_record.c.is_current.is_(True), source_record.c.id_valid.is_(True))
            .order_by(source_record.c.department, source_record.c.source_key)
        ).all()
    by_family: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for department, key, number, name in rows:
        by_family[(number[:14], (name or "")[:1])].setdefault(number, f"{department}|{key}")
    families = [sorted(numbers.values()) for numbers in by_family.values() if len(numbers) >= 2]
    chosen = rng.sample(families, min(2, len(families)))
    return [(family[0], family[1]) for family in chosen]
