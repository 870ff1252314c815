"""A real `mmi publish` process, killed (SIGKILL) at each failpoint, then run again: nothing lost, nothing repeated.

The outbox holds 30 events when the publisher is killed and 40 when it runs again; batches of 7 events and files
of at most 3 make every kill land between files and between batches. After the second run each subscriber must
hold exactly the events of its jurisdiction, each once, in change sets numbered 1..n without gaps, with every
file on disk recorded and matching its SHA-256.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from mmi.failpoints import PUBLISH_FAILPOINTS as FAILPOINTS
from mmi.store.exchange_tables import changeset
from tests.mmi.exchange.outbox import SUBSCRIBERS, Outbox, golden
from tests.mmi.exchange.readers import published, read_fastavro

ROOT = Path(__file__).resolve().parents[3]
DISTRICTS = ("410105", "440305", "110105", "410102", "440104")
BEFORE_COMMIT = {"after_read", "after_file_written", "after_files_written", "before_commit"}


def write_config(tmp_path: Path, store_url: str) -> Path:
    lines = [f"[store]\nurl = {json.dumps(store_url)}\n", '[exchange]\nout_dir = "changesets"\nbatch_events = 7\nmax_events = 3\n']
    for name, table in SUBSCRIBERS.items():
        lines.append(f"[subscribers.{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items()))
    config = tmp_path / "mmi.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def add_events(outbox: Outbox, first: int, count: int) -> list[dict[str, object]]:
    rows = []
    for number in range(first, first + count):
        district = DISTRICTS[number % len(DISTRICTS)]
        if number % 3 == 2:  # a move between the two jurisdictions
            moved = DISTRICTS[(number + 1) % len(DISTRICTS)]
            rows.append(
                outbox.add(
                    "update",
                    f"M{number}",
                    before=golden(name=f"人{number}", current_district=district),
                    after=golden(name=f"人{number}", current_district=moved),
                )
            )
        else:
            rows.append(outbox.add("create", f"M{number}", after=golden(name=f"人{number}", current_district=district)))
    return rows


def expected_ids(rows: list[dict[str, object]], prefixes: list[str]) -> set[str]:
    def district(golden_json: object) -> str:
        return json.loads(str(golden_json))["current_district"] if golden_json else ""

    return {
        str(row["event_id"])
        for row in rows
        if district(row["golden_before"]).startswith(tuple(prefixes)) or district(row["golden_after"]).startswith(tuple(prefixes))
    }


def run_publish(config: Path, failpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "MMI_FAILPOINT"}
    if failpoint:
        env["MMI_FAILPOINT"] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "mmi.cli", "publish", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("failpoint", [*FAILPOINTS, "after_file_written:6", "before_commit:2", "after_commit:3"])
def test_a_publisher_killed_at_a_failpoint_loses_and_repeats_nothing(store: Engine, store_url: str, tmp_path: Path, failpoint: str) -> None:
    config = write_config(tmp_path, store_url)
    outbox = Outbox(store)
    rows = add_events(outbox, 0, 30)

    killed = run_publish(config, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with store.connect() as connection:
        recorded = connection.execute(select(func.count()).select_from(changeset)).scalar_one()
    if failpoint in BEFORE_COMMIT:
        assert recorded == 0  # died inside the first transaction: nothing recorded, perhaps files written
    elif failpoint in FAILPOINTS:
        assert recorded > 0  # died after the first commit

    rows += add_events(outbox, 30, 10)
    finished = run_publish(config, None)
    assert finished.returncode == 0, finished.stderr

    out_dir = tmp_path / "changesets"
    for name, table in SUBSCRIBERS.items():
        files = published(store, out_dir, name)
        assert [row["seq"] for row, _ in files] == list(range(1, len(files) + 1))
        ids = [str(event["event_id"]) for _, content in files for event in read_fastavro(content)[1]]
        assert len(ids) == len(set(ids)), f"{name}: an event was delivered twice"
        assert set(ids) == expected_ids(rows, table["jurisdiction"]), f"{name}: events lost or foreign"
        on_disk = {f"{name}/{path.name}" for path in (out_dir / name).iterdir()}
        assert on_disk == {row["file_name"] for row, _ in files}, "a file nobody recorded was left behind"
