"""The index's commands, run in-process against an ingested store: train, link, constrain, export, evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mmi.cli import EXIT_FIX, EXIT_OK, main


def test_train_link_export_and_evaluate(index, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    settings, _engine = index()
    assert settings.config_path
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[store]\nurl = "{settings.store_url}"\n[linkage]\nworkspace = "{tmp_path / "cli-workspace.duckdb"}"\n', encoding="utf-8"
    )

    assert main(["train", "--config", str(config)]) == EXIT_OK
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["link", "--config", str(config)]) == EXIT_OK
    run = json.loads(capsys.readouterr().out)
    assert run["mode"] == "full" and run["model_version_id"] == trained["model_version_id"] and run["events"]["create"] > 600

    assert main(["export", "xref", "--config", str(config), "--out", str(tmp_path / "xref.csv")]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"wrote {len(rows_of(tmp_path / 'xref.csv'))} xref")
    rows = rows_of(tmp_path / "xref.csv")
    assert list(rows[0]) == ["department", "source_key", "master_id"]
    people = [row for row in rows if not row["source_key"].startswith("EV")]
    assert all(row["master_id"].startswith("M") for row in people)  # every person record is linked
    assert {row["department"] for row in rows} == {"public_security", "human_resources", "statistics", "health"}

    assert main(["evaluate", "--config", str(config), "--truth", str(settings.config_path.parent / "truth.csv")]) == EXIT_OK
    figures = json.loads(capsys.readouterr().out)
    assert figures["records_evaluated"] == figures["records_in_index"] and figures["f1"] > 0.98
    assert "worst_false_merges" not in figures

    truth = settings.config_path.parent / "truth.csv"
    assert main(["evaluate", "--config", str(config), "--truth", str(truth), "--worst", "3"]) == EXIT_OK
    worst = json.loads(capsys.readouterr().out)
    assert worst["f1"] == figures["f1"]
    missed = figures["true_pairs"] - figures["correct_pairs"]
    assert len(worst["worst_false_splits"]) == min(3, missed) and len(worst["worst_false_merges"]) <= 3
    person_of = {f"{row['department']}|{row['source_key']}": row["person"] for row in rows_of(truth)}
    for entry in worst["worst_false_splits"]:  # one person, two masters, both records side by side
        assert person_of[entry["left_key"]] == person_of[entry["right_key"]] and entry["left_master"] != entry["right_master"]
        fields = {name: (left, right) for name, left, right in entry["fields"]}
        assert {"name", "id_number", "birth_date", "department"} <= set(fields)
    for entry in worst["worst_false_merges"]:
        assert person_of[entry["left_key"]] != person_of[entry["right_key"]] and entry["left_master"] == entry["right_master"]
    scores = [entry["match_probability"] for entry in worst["worst_false_splits"]]
    assert scores == sorted(scores, key=lambda p: -1 if p is None else p)  # never scored first, then the weakest

    assert (
        main(["constrain", "--config", str(config), "cannot-link", "health|nobody", "public_security|nobody", "--reason", "x"]) == EXIT_FIX
    )
    assert "no source record 'health|nobody'" in capsys.readouterr().err
    assert main(["export", "review", "--config", str(config), "--out", str(tmp_path / "review.csv")]) == EXIT_OK
    review = rows_of(tmp_path / "review.csv")
    assert {row["kind"] for row in review} <= {"pair", "conflict"}
    assert all(float(pair["match_probability"]) < 0.999 for pair in review if pair["kind"] == "pair")
    assert all(row["rule"] and float(row["match_probability"]) >= 0.999 for row in review if row["kind"] == "conflict")


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_link_on_an_empty_store_says_what_to_do_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "empty.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "empty.db"}"\n', encoding="utf-8")
    assert main(["link", "--config", str(config)]) == EXIT_FIX
    assert "run `mmi ingest` first" in capsys.readouterr().err
