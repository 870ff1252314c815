"""The `mmi` command line, run in-process: exit codes, exports, status."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from mmi.cli import EXIT_FIX, EXIT_OK, EXIT_RETRY, main
from tests.conftest import SAMPLES


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Path:
    shutil.copytree(SAMPLES / "human_resources", tmp_path / "hr")
    shutil.copytree(SAMPLES / "statistics", tmp_path / "stats")
    path = tmp_path / "mmi.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n[sources.human_resources]\ndrop_dir = "hr"\n[sources.statistics]\ndrop_dir = "stats"\n',
        encoding="utf-8",
    )
    return path


def test_ingest_then_export_records_and_quarantine(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "hr" / "rs_cbdj_20261031.csv").write_bytes("个人编号,姓名\r\n".encode("gb18030"))
    (tmp_path / "hr" / "rs_cbdj_20261031.csv.ok").touch()
    assert main(["ingest", "--config", str(config), "--one-at-a-time"]) == EXIT_OK
    assert '"department": "human_resources"' in capsys.readouterr().out
    assert main(["export", "records", "--config", str(config), "--out", str(tmp_path / "records.csv")]) == EXIT_OK
    with (tmp_path / "records.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["department", "source_key", "version", "name", "name_pinyin"]
    assert {row["department"] for row in rows} == {"human_resources", "statistics"} and len(rows) == 36
    assert main(["export", "quarantine", "--config", str(config), "--out", str(tmp_path / "quarantine.csv")]) == EXIT_OK
    with (tmp_path / "quarantine.csv").open(encoding="utf-8") as handle:
        [entry] = list(csv.DictReader(handle))
    assert list(entry)[:4] == ["department", "location", "source_key", "reason"]
    assert entry["location"] == "rs_cbdj_20261031.csv:1" and "header lacks" in entry["reason"]


def test_status_after_ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", "--config", str(config)])
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == EXIT_OK
    assert '"human_resources": 33' in capsys.readouterr().out


def test_a_department_that_must_be_fixed_exits_2_and_a_passing_failure_exits_1(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(tmp_path / "stats")
    assert main(["ingest", "--config", str(config)]) == EXIT_FIX
    from connectors.human_resources import HumanResourcesConnector
    from schemas.errors import TransientError

    def unreachable(self, state):  # type: ignore[no-untyped-def]
        raise TransientError("share unreachable")

    monkeypatch.setattr(HumanResourcesConnector, "deliveries", unreachable)
    assert main(["ingest", "--config", str(config), "--source", "human_resources"]) == EXIT_RETRY


def test_config_problems_exit_2_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMI_CONFIG", raising=False)
    assert main(["ingest"]) == EXIT_FIX
    assert "--config PATH or set MMI_CONFIG" in capsys.readouterr().err
    (tmp_path / "mmi.toml").write_text('[store]\nurl = "sqlite:///x.db"\n', encoding="utf-8")
    assert main(["ingest", "--config", str(tmp_path / "mmi.toml"), "--source", "health"]) == EXIT_FIX
    assert "no [sources.health] section" in capsys.readouterr().err


def test_a_first_link_without_every_department_or_enough_pairs_says_what_it_waits_for(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stats").rename(tmp_path / "elsewhere")
    # `mmi run`: statistics' folder is missing (fix it first), and the first model waits for its records: nothing
    # is linked or published
    assert main(["run", "--config", str(config)]) == EXIT_FIX
    captured = capsys.readouterr()
    assert "the first model waits for every configured department's records, and statistics has not delivered yet" in captured.err
    assert '"publish"' not in captured.out
    # Both departments in, but the samples are a few dozen records: too few pairs to train on, by hand or not.
    (tmp_path / "elsewhere").rename(tmp_path / "stats")
    assert main(["ingest", "--config", str(config)]) == EXIT_OK
    for command in ("link", "train"):
        capsys.readouterr()
        assert main([command, "--config", str(config)]) == EXIT_FIX
        assert "each training rule needs at least 100 pairs of records, and `l.id_number = r.id_number` gives" in capsys.readouterr().err
