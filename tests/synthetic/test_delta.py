"""generate_delta: the departments' next delivery, appended the way each department sends it."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import fastavro
import pytest

from synthetic import generate_delta, generate_feeds


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _table(out: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        return {key: (gxsj, zxbs) for key, gxsj, zxbs in connection.execute("SELECT JZDJBH, GXSJ, ZXBS FROM ga_jzdj")}


@pytest.fixture(scope="module")
def delivered_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, str]], int, int]:
    out = tmp_path_factory.mktemp("delta")
    generate_feeds(out, 200, seed=8)
    before = _table(out)
    truth_rows = len(_rows(out / "truth.csv"))
    persons = len((out / "health" / "persons.jsonl").read_bytes().splitlines())
    generate_delta(out, seed=1, fraction=0.1)
    return out, before, truth_rows, persons


def test_the_pending_file_is_completed_and_a_new_day_arrives(delivered_twice: tuple) -> None:
    out, *_ = delivered_twice
    folder = out / "human_resources"
    assert (folder / "rs_cbdj_20261031.csv.ok").exists()
    assert (folder / "rs_cbdj_20261101.csv").exists() and (folder / "rs_cbdj_20261101.csv.ok").exists()
    delivered = _rows(out / "delivered.csv")
    assert not [row for row in delivered if row[4] == "pending"]
    assert any(row[3].startswith("rs_cbdj_20261101.csv:") for row in delivered)


def test_public_security_rows_are_updated_in_place_and_inserted(delivered_twice: tuple) -> None:
    out, before, *_ = delivered_twice
    after = _table(out)
    latest_before = max(gxsj for gxsj, _ in before.values() if gxsj)
    updated = [key for key in before if after[key][0] != before[key][0]]
    inserted = [key for key in after if key not in before]
    assert updated and inserted
    assert all(after[key][0] > latest_before for key in updated + inserted)
    delivered = [row for row in _rows(out / "delivered.csv") if row[1] == "ga_jzdj"]
    assert len(delivered) == len(before) + len(updated) + len(inserted)  # one row per version pulled


def test_statistics_publishes_a_new_wave(delivered_twice: tuple) -> None:
    out, *_ = delivered_twice
    with open(out / "statistics" / "tj_ldrk_2026Q4.avro", "rb") as handle:
        waves = {record["survey_wave"] for record in fastavro.reader(handle) if isinstance(record, dict)}
    assert waves == {"2026Q4"}


def test_health_files_grow_and_stay_sorted(delivered_twice: tuple) -> None:
    out, _, _, persons_before = delivered_twice
    for stream, key in (("persons", "person_id"), ("services", "event_id")):
        items = [json.loads(line) for line in (out / "health" / f"{stream}.jsonl").read_text(encoding="utf-8").splitlines()]
        order = [(item["updated_at"], item.get(key) or "") for item in items]
        assert order == sorted(order)
        delivered = [row for row in _rows(out / "delivered.csv") if row[1] == stream]
        assert len(delivered) == len(items)
    assert len(items) > 0 and len((out / "health" / "persons.jsonl").read_bytes().splitlines()) > persons_before


def test_truth_is_appended_with_new_keys_only(delivered_twice: tuple) -> None:
    out, _, truth_before, _ = delivered_twice
    truth = _rows(out / "truth.csv")
    keys = [(department, key) for department, key, _ in truth]
    assert len(truth) > truth_before and len(keys) == len(set(keys))
    good = {(row[0], row[2]) for row in _rows(out / "delivered.csv") if row[1] != "services" and row[4] == "record"}
    assert set(keys) == good


def test_deltas_are_deterministic_and_chain(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_feeds(tmp_path / name, 100, seed=2)
        generate_delta(tmp_path / name, seed=4, fraction=0.1)
        second = generate_delta(tmp_path / name, seed=5, fraction=0.1)
    assert second["day"] == "2026-11-02"
    files = lambda root: {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}  # noqa: E731
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_a_delta_needs_a_generated_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="generate_feeds"):
        generate_delta(tmp_path, seed=1)
