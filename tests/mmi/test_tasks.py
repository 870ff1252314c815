"""The steps a scheduler runs: one department's ingest, with its failures raised as the retry policy expects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.feeds import served_feeds
from mmi.tasks import StepFailed, run_ingest, summarise
from schemas.errors import ConfigError, TransientError


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[Path]:
    """Small generated feeds, the health API serving them, and the config pointing at it."""
    with served_feeds(tmp_path, people=120, seed=3):
        yield tmp_path


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("department", ["public_security", "human_resources", "statistics", "health"])
def test_a_department_is_ingested_once_and_then_reports_nothing_new(feeds: Path, department: str) -> None:
    first = run_ingest(department, feeds / "mmi.toml")
    assert first["department"] == department and first["error"] is None and first["new_versions"] > 0 and first["changed"]
    again = run_ingest(department, feeds / "mmi.toml")
    assert again["new_versions"] == 0 and again["error"] is None and not again["changed"]


def test_the_config_comes_from_mmi_config_when_not_given(feeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMI_CONFIG", str(feeds / "mmi.toml"))
    assert run_ingest("statistics")["new_versions"] > 0


def test_an_api_that_stays_down_raises_a_transient_error(feeds: Path) -> None:
    config = feeds / "mmi.toml"
    text = config.read_text(encoding="utf-8")
    base_url = text.split('base_url = "')[1].split('"')[0]
    text = text.replace(base_url, f"http://127.0.0.1:{closed_port()}")
    text = text.replace("[sources.health]\n", "[sources.health]\nmax_attempts = 2\nbackoff_seconds = 0.01\ntimeout_seconds = 2\n")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(TransientError, match="health"):
        run_ingest("health", config)


def test_a_missing_drop_folder_must_be_fixed_and_is_not_retried(feeds: Path) -> None:
    (feeds / "human_resources").rename(feeds / "elsewhere")
    with pytest.raises(StepFailed, match="drop folder .* does not exist") as failure:
        run_ingest("human_resources", feeds / "mmi.toml")
    assert not isinstance(failure.value, TransientError)


def test_a_department_the_config_does_not_name_is_not_configured(feeds: Path) -> None:
    config = feeds / "mmi.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('[sources.statistics]\ndrop_dir = "statistics"\n', ""), encoding="utf-8")
    assert run_ingest("statistics", config) == {"department": "statistics", "not_configured": True, "changed": False}
    with pytest.raises(ConfigError, match="unknown department"):
        run_ingest("tax_office", config)


def test_a_result_is_summarised_as_json_values() -> None:
    @dataclasses.dataclass
    class Run:
        run_id: int
        finished: dt.datetime
        counts: dict[str, tuple[int, int]]
        model: Path

    moment = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert summarise(Run(7, moment, {"merged": (1, 2)}, Path("/m/model.json"))) == {
        "run_id": 7,
        "finished": "2026-03-01T08:30:00+00:00",
        "counts": {"merged": [1, 2]},
        "model": "/m/model.json",
    }
    assert summarise(3) == {"result": 3}
