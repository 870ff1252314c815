"""A real `mmi link` killed (SIGKILL) at each of its steps, then run again: the index equals a clean run's, and the
killed run is marked failed by the next one (its heartbeat stopped)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from linkage.scoring import TrainedModel
from mmi.failpoints import LINK_FAILPOINTS
from mmi.index import link_index
from mmi.index.model_versions import save_model_version
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.index_tables import linkage_run, master_event, master_record, master_xref
from tests.mmi.index.conftest import _serving, _settings

ROOT = Path(__file__).resolve().parents[3]
RUN_COLUMNS = ("created_run_id", "updated_run_id")  # which run wrote a master: the killed one's number is taken
COMMITTED = {"link_after_commit", "link_after_workspace"}  # the store holds the killed run's result
# Every failpoint on SQLite; on PostgreSQL the one inside the index's transaction (each case costs two runs).
CASES = [pytest.param(point, "sqlite", id=f"sqlite-{point}") for point in LINK_FAILPOINTS] + [
    pytest.param("link_before_commit", "postgresql", id="postgresql-link_before_commit", marks=pytest.mark.postgres)
]


def index_state(engine: Engine) -> dict[str, Any]:
    """The index as subscribers and stewards see it: memberships, golden records, and the events that made them."""
    with engine.connect() as connection:
        xref = sorted(
            tuple(row) for row in connection.execute(select(master_xref.c.master_id, master_xref.c.department, master_xref.c.source_key))
        )
        columns = [column for column in master_record.c if column.name not in RUN_COLUMNS]
        masters = sorted(tuple(str(value) for value in row) for row in connection.execute(select(*columns)))
        events = Counter(
            (row.operation, row.master_id) for row in connection.execute(select(master_event.c.operation, master_event.c.master_id))
        )
    return {"xref": xref, "masters": masters, "events": events}


@pytest.fixture(scope="module")
def clean(feeds: Path, model: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one uninterrupted `mmi link` makes of the feeds."""
    settings = _settings(feeds, tmp_path_factory.mktemp("clean-link"), None)
    engine = open_store(settings.store_url)
    save_model_version(engine, model, "tests", {"records": "fixture"})
    with _serving(settings) as served:
        ingest(served, engine, parallel=False)
    link_index(settings, engine)
    return index_state(engine)


def _config(feeds: Path, store_url: str, workspace: Path) -> Path:
    text = (feeds / "mmi.toml").read_text(encoding="utf-8")
    store = f"[store]\nurl = {json.dumps(store_url)}\nstale_after_seconds = 0\nheartbeat_seconds = 0.2\n"
    text = re.sub(r"\[store\]\nurl = [^\n]*\n", store, text) + f"\n[linkage]\nworkspace = {json.dumps(str(workspace))}\n"
    config = feeds / "link.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _link(config: Path, failpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("MMI_FAILPOINT", "MMI_CONFIG")}
    if failpoint:
        env["MMI_FAILPOINT"] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "mmi.cli", "link", "--config", str(config)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.parametrize(("failpoint", "store_url"), CASES, indirect=["store_url"])
def test_a_link_killed_at_each_step_recovers_to_the_clean_index(
    index: Any, clean: dict[str, Any], tmp_path: Path, store_url: str, failpoint: str
) -> None:
    settings, engine = index()
    config = _config(settings.config_path.parent, store_url, tmp_path / "workspace.duckdb")

    killed = _link(config, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with engine.connect() as connection:
        [(killed_id, status)] = connection.execute(select(linkage_run.c.id, linkage_run.c.status)).all()
    assert status == ("done" if failpoint in COMMITTED else "running")

    recovered = _link(config, None)
    assert recovered.returncode == 0, recovered.stderr
    assert index_state(engine) == clean
    with engine.connect() as connection:
        runs = dict(connection.execute(select(linkage_run.c.id, linkage_run.c.error)).all())
    if failpoint not in COMMITTED:
        assert str(runs[killed_id]).startswith("process died: heartbeat stopped at ")
