"""generate_feeds: the layout it writes, determinism, and how noise scales."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from typing import Any

from linkage.standardise.idnumber import parse_id_number
from synthetic import HEALTH_TOKEN, generate_feeds


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, counts = feeds
    assert (out / "public_security" / "ga_jzdj.sqlite").is_file()
    csvs = sorted((out / "human_resources").glob("rs_cbdj_*.csv"))
    assert len(csvs) == 30
    assert csvs[0].name == "rs_cbdj_20261002.csv" and csvs[-1].name == "rs_cbdj_20261031.csv"
    assert all(Path(f"{p}.ok").exists() for p in csvs[:-1])
    assert not Path(f"{csvs[-1]}.ok").exists()  # the last day's file is still being written
    waves = sorted(p.name for p in (out / "statistics").iterdir())
    assert waves == ["tj_ldrk_2026Q1.avro", "tj_ldrk_2026Q2.avro", "tj_ldrk_2026Q3.avro"]
    assert (out / "health" / "persons.jsonl").is_file() and (out / "health" / "services.jsonl").is_file()
    assert (out / "truth.csv").is_file() and (out / "delivered.csv").is_file()
    assert counts["people"] == 150
    for department in ("public_security", "human_resources", "statistics", "health"):
        assert counts[department]["corrupt"] >= 1


def test_config_points_at_the_feeds(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    config = tomllib.loads((out / "mmi.toml").read_text(encoding="utf-8"))
    assert config["store"]["url"] == "sqlite:///var/mmi.db"
    assert config["sources"]["public_security"] == {"url": "sqlite:///public_security/ga_jzdj.sqlite", "table": "ga_jzdj"}
    assert (out / config["sources"]["human_resources"]["drop_dir"]).is_dir()
    assert (out / config["sources"]["statistics"]["drop_dir"]).is_dir()
    assert config["sources"]["health"] == {"base_url": "http://127.0.0.1:8701", "token": HEALTH_TOKEN}


def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert generate_feeds(first, 80, seed=5) == generate_feeds(again, 80, seed=5)
    files = _files(first)
    assert files == _files(again)
    generate_feeds(other, 80, seed=6)
    different = _files(other)
    assert files.keys() == different.keys()
    for name in ("public_security/ga_jzdj.sqlite", "health/persons.jsonl", "truth.csv", "statistics/tj_ldrk_2026Q2.avro"):
        assert files[name] != different[name], name


def test_rerun_replaces_an_earlier_generation(tmp_path: Path) -> None:
    generate_feeds(tmp_path, 60, seed=1)
    (tmp_path / "human_resources" / "rs_cbdj_20991231.csv").write_bytes(b"stale")
    generate_feeds(tmp_path, 60, seed=1)
    assert not (tmp_path / "human_resources" / "rs_cbdj_20991231.csv").exists()


def _observable_noise(out: Path) -> int:
    """Noisy fields anyone can see in the public security table: spaces in names, IDs that are not 18 valid."""
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        rows = connection.execute("SELECT XM, GMSFHM FROM ga_jzdj").fetchall()
    spaced = sum(1 for name, _ in rows if name and (" " in name or "\u3000" in name))
    odd_ids = sum(1 for _, number in rows if number and (len(number) == 15 or not parse_id_number(number).valid))
    return spaced + odd_ids


def test_more_noise_gives_more_noisy_fields(tmp_path: Path) -> None:
    low = generate_feeds(tmp_path / "low", 600, seed=2, noise=1.0)
    high = generate_feeds(tmp_path / "high", 600, seed=2, noise=3.0)
    total = lambda counts: sum(sum(kinds.values()) for kinds in counts["noise"].values())  # noqa: E731
    assert total(high) > 2 * total(low)
    assert _observable_noise(tmp_path / "high") > 2 * _observable_noise(tmp_path / "low")
    assert high["expected"]["quarantine"] > low["expected"]["quarantine"]


def test_no_noise_means_clean_feeds(clean_feeds: tuple[Path, dict[str, Any]]) -> None:
    out, counts = clean_feeds
    assert all(not kinds for kinds in counts["noise"].values())
    assert "quarantine" not in counts["expected"]
    assert _observable_noise(out) == 0


def test_coverage_is_like_the_samples(tmp_path: Path) -> None:
    """Per 60 people the samples hold ~57 registrations, ~33 insured, ~40 health persons, ~57 services."""
    counts = generate_feeds(tmp_path, 3000, seed=3)
    per60 = lambda n: n * 60 / 3000  # noqa: E731
    assert 52 <= per60(counts["public_security"]["rows"]) <= 62
    assert 28 <= per60(counts["human_resources"]["people"]) <= 38
    assert 38 <= per60(counts["human_resources"]["rows"]) <= 52
    assert 35 <= per60(counts["health"]["people"]) <= 45
    assert 45 <= per60(counts["health"]["services"]) <= 65
    assert 2 <= per60(counts["statistics"]["rows"]) / 3 <= 5  # per wave
