"""`mmi indicators` and `mmi worklist` write the issue's columns, on SQLite and PostgreSQL; bad input exits 2."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from mmi.cli import main
from mmi.store.database import open_store
from tests.mmi.indicators.builder import StoreBuilder

ISSUE_COLUMNS = ["indicator", "area", "level", "as_of", "numerator", "denominator", "rate", "ci_low", "ci_high", "target", "meets_target"]
WORKLIST_COLUMNS = [
    "master_id",
    "name",
    "sex",
    "birth_date",
    "age",
    "district",
    "address",
    "phone",
    "residence_start",
    "unmet",
    "due_since",
]


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_indicators_and_worklist_as_csv(store_url: str, tmp_path: Path) -> None:
    build = StoreBuilder(open_store(store_url))
    build.person("M1", birth=dt.date(2022, 1, 1), district="410105", start=dt.date(2023, 1, 1), name="张三")
    build.person("M2", birth=dt.date(1990, 1, 1), district="440305", start=dt.date(2023, 1, 1))
    config = tmp_path / "mmi.toml"
    config.write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
    out = tmp_path / "indicators.csv"
    assert main(["indicators", "--config", str(config), "--as-of", "2026-10-31", "--level", "city", "--out", str(out)]) == 0
    with open(out, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    assert header[: len(ISSUE_COLUMNS)] == ISSUE_COLUMNS and "rate_with_review_links" in header and "chapman_estimate" in header
    rows = {(row["indicator"], row["area"]): row for row in read(out)}
    assert {row["level"] for row in rows.values()} == {"all", "city"}
    education = rows["health_education", "all"]
    assert (education["numerator"], education["denominator"], education["definition_version"]) == ("0", "2", "v1")
    assert rows["child_vaccination", "4101"]["meets_target"] == "false" and rows["health_education", "4403"]["target"] == ""
    worklist = tmp_path / "worklist.csv"
    assert (
        main(
            [
                "worklist",
                "--config",
                str(config),
                "--indicator",
                "child_vaccination",
                "--area",
                "41",
                "--as-of",
                "2026-10-31",
                "--out",
                str(worklist),
            ]
        )
        == 0
    )
    [row] = read(worklist)
    assert list(row)[: len(WORKLIST_COLUMNS)] == WORKLIST_COLUMNS
    assert (row["master_id"], row["name"], row["age"], row["district"], row["due_since"]) == ("M1", "张三", "4", "410105", "2023-04-01")
    assert (
        main(
            ["worklist", "--config", str(config), "--indicator", "no_such", "--area", "41", "--as-of", "2026-10-31", "--out", str(worklist)]
        )
        == 2
    )
