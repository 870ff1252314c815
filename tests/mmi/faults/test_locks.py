"""Steps that exclude each other: real `mmi` processes racing on one store, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mmi.cli import main
from mmi.config import load_settings
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.locks import StepLocked, step_lock
from tests.mmi.faults.conftest import ROOT, finished, landed, mmi, write_config

pytestmark = pytest.mark.slow


def test_two_first_ingests_of_different_departments_at_once_both_succeed(feeds: Path, store_url: str) -> None:
    config = write_config(feeds, store_url, lock_wait_seconds=120)
    runs = [mmi(config, "ingest", "--source", name, "--one-at-a-time") for name in ("human_resources", "statistics")]
    results = [finished(run) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    engine = open_store(store_url)
    counts = landed(engine)
    assert counts["keys"] == counts["current"] > 0  # one current version per record
    assert counts.get("batches_done") == 2 and "batches_running" not in counts


def test_two_ingests_of_one_department_at_once_both_succeed_and_store_it_once(feeds: Path, store_url: str, tmp_path: Path) -> None:
    config = write_config(feeds, store_url, lock_wait_seconds=120)
    runs = [mmi(config, "ingest", "--source", "public_security", "--one-at-a-time") for _ in range(2)]
    results = [finished(run) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    raced = landed(open_store(store_url))

    alone = open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    ingest(load_settings(write_config(feeds, str(alone.url), "alone.toml")), alone, only="public_security")
    clean = landed(alone)
    # The second run waited for the first, then found nothing new: the same store a single run makes.
    assert {key: raced[key] for key in ("versions", "keys", "current", "quarantined")} == {
        key: clean[key] for key in ("versions", "keys", "current", "quarantined")
    }
    assert raced["versions"] > 0 and "batches_running" not in raced


def test_a_second_run_waits_then_exits_1_naming_the_holder(feeds: Path, store: Engine, store_url: str) -> None:
    config = write_config(feeds, store_url, lock_wait_seconds=1)
    with step_lock(store, "ingest:statistics", 0) as holder:
        code, output = finished(mmi(config, "ingest", "--source", "statistics"))
    assert code == 1, output
    assert "step 'ingest:statistics' is running elsewhere" in output
    assert f"{socket.gethostname()[:20]}" in output and f"pid {os.getpid()}" in output
    assert holder.since.isoformat(timespec="seconds") in output


@pytest.mark.parametrize("step", ["link", "publish"])
def test_link_and_publish_wait_for_a_run_of_their_own_step(
    feeds: Path, store: Engine, store_url: str, step: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(feeds, store_url, lock_wait_seconds=0.5)
    with step_lock(store, step, 0):  # held on a connection of its own: the command's is another session
        code = main([step, "--config", str(config)])
    assert code == 1
    assert f"step '{step}' is running elsewhere" in capsys.readouterr().err


def test_a_lock_whose_holder_was_killed_is_free_at_once(store: Engine, store_url: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import time
                from mmi.store.database import open_store
                from mmi.store.locks import step_lock
                with step_lock(open_store({store_url!r}), "link", 0):
                    print("held", flush=True)
                    time.sleep(600)
            """),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StepLocked, match=rf"pid {holder.pid}, since "), step_lock(store, "link", 0.3):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with step_lock(store, "link", 10) as me:  # the database let go of the dead process's lock
        assert me.pid == os.getpid()


def test_steps_and_stores_do_not_exclude_each_other(store: Engine, store_url: str, tmp_path: Path) -> None:
    other = open_store(f"sqlite:///{tmp_path / 'other' / 'mmi.db'}")
    with (
        step_lock(store, "ingest:health", 0),
        step_lock(store, "ingest:statistics", 0),  # another step
        step_lock(other, "ingest:health", 0),  # another store
        pytest.raises(StepLocked, match="ingest:health"),
        step_lock(store, "ingest:health", 0),
    ):
        pass
