"""the demo's batch part, as `make demo` runs it: the real DAGs through Airflow, twice, on generated feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.demo import run_demo

pytestmark = pytest.mark.slow


def test_the_demo_runs_every_dag_twice_and_leaves_an_index_exports_and_change_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "demo" / "feeds" / "var" / "mmi.db"  # an earlier demo's store, here unreadable
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not a database")
    figures = run_demo(tmp_path / "demo", people=300, serve=False)
    printed = capsys.readouterr().out
    assert printed.count("link_master_index") == 2 and "full run" in printed and "incremental run" in printed
    accuracy = figures["accuracy"]
    assert accuracy["records_evaluated"] == accuracy["records_in_index"] > 500 and accuracy["f1"] > 0.98
    assert all(count > 0 for name, count in figures["exports"].items() if name != "review")
    change_sets = list((tmp_path / "demo" / "feeds" / "var" / "changesets").rglob("*.avro"))
    assert change_sets, "publication wrote no change set"
