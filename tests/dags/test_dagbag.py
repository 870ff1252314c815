"""The DAG folder as Airflow sees it: it parses without errors, touches no database or network while parsing,
and wires the DAGs as the design says (Assets declared once, one run at a time, retries with backoff)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import DAGS
from mmi.tasks import StepFailed
from schemas.errors import ConfigError, SourceError, StoreError, TransientError
from tests.dags.conftest import ALL_DAGS, INGEST_DAGS, ROOT, Airflow
from tests.dags.parse_probe import RESULT_PREFIX


def parse_in_fresh_process(folder: Path, airflow: Airflow) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.dags.parse_probe", str(folder)],
        cwd=ROOT,
        env=airflow.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    assert done.returncode == 0 and results, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(json.loads(results[-1].removeprefix(RESULT_PREFIX)))


def test_the_dag_folder_parses_without_errors_databases_or_sockets(airflow: Airflow) -> None:
    parsed = parse_in_fresh_process(DAGS, airflow)
    assert parsed["import_errors"] == {}
    assert set(parsed["dag_ids"]) == ALL_DAGS
    assert parsed["opened"] == []


def test_the_parse_probe_catches_a_dag_file_that_opens_the_store(airflow: Airflow, tmp_path: Path) -> None:
    """The check above can fail: the same probe, on a copy of the folder plus one file that opens a store."""
    folder = tmp_path / "dags"
    shutil.copytree(DAGS, folder)
    (folder / "leaky_dag.py").write_text(
        '"""An Airflow DAG file that opens the store while it is parsed: what the DAG files must never do."""\n'
        "from airflow.sdk import dag\n"
        "from mmi.store.database import open_store\n"
        f"open_store('sqlite:///{tmp_path / 'leak.db'}')\n\n\n"
        "@dag(schedule=None)\ndef leaky() -> None:\n    pass\n\n\nleaky()\n",
        encoding="utf-8",
    )
    parsed = parse_in_fresh_process(folder, airflow)
    assert parsed["import_errors"] == {} and "leaky" in parsed["dag_ids"]
    kinds = {record["what"] for record in parsed["opened"]}
    assert {"sqlalchemy.create_engine", "sqlalchemy dialect connect", "sqlite3.dbapi2.connect"} <= kinds, parsed["opened"]
    assert not [record for record in parsed["opened"] if "leaky_dag.py" not in record["where"] and "mmi/store" not in record["where"]]


def _module_level_calls(path: Path) -> Iterator[str]:
    """Names of the functions called by a module's top-level code (not inside the functions it defines)."""

    def visit(node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for decorator in getattr(node, "decorator_list", []):
                yield from visit(decorator)
            return
        if isinstance(node, ast.Call):
            yield ast.unparse(node.func)
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda path: path.name)
def test_no_dag_file_reads_variables_or_config_at_parse_time(path: Path) -> None:
    calls = set(_module_level_calls(path))
    assert calls, "a DAG file calls something at its top level (its DAG), or this check reads nothing"
    forbidden = {
        call
        for call in calls
        if call.endswith(
            ("Variable.get", "Connection.get", "load_settings", "open_store", "config_path", "run_ingest", "run_linkage", "run_publication")
        )
    }
    assert not forbidden


@pytest.fixture(scope="module")
def dag_bag(airflow: Airflow) -> Any:
    with pytest.MonkeyPatch.context() as env:
        for key, value in airflow.env.items():
            if key.startswith("AIRFLOW"):
                env.setenv(key, value)
        from airflow.dag_processing.dagbag import BundleDagBag

        bag = BundleDagBag(DAGS, bundle_path=DAGS, bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag


def test_every_dag_runs_one_at_a_time_and_retries_with_exponential_backoff(dag_bag: Any) -> None:
    assert set(dag_bag.dag_ids) == ALL_DAGS
    for dag in dag_bag.dags.values():
        assert dag.max_active_runs == 1, dag.dag_id
        assert dag.tasks, dag.dag_id
        for task in dag.tasks:
            assert task.retries >= 3 and task.retry_exponential_backoff >= 2, (dag.dag_id, task.task_id)
            assert task.max_retry_delay is not None and task.max_retry_delay > task.retry_delay
            assert task.retry_policy is not None


def test_ingest_assets_schedule_linkage_and_linkage_schedules_publication(dag_bag: Any) -> None:
    def outlets(dag_id: str) -> set[str]:
        return {outlet.name for task in dag_bag.dags[dag_id].tasks for outlet in task.outlets}

    def triggers(dag_id: str) -> set[str]:
        condition = dag_bag.dags[dag_id].timetable.asset_condition
        return {asset.name for asset in getattr(condition, "objects", [condition])}

    ingest_assets = [outlets(dag_id) for dag_id in INGEST_DAGS.values()]
    assert all(len(assets) == 1 for assets in ingest_assets)
    assert len(set.union(*ingest_assets)) == len(INGEST_DAGS)  # one Asset each, none shared
    assert triggers("link_master_index") == set.union(*ingest_assets)
    assert type(dag_bag.dags["link_master_index"].timetable.asset_condition).__name__ == "AssetAny"  # any one of them
    assert len(outlets("link_master_index")) == 1
    assert triggers("publish_change_sets") == outlets("link_master_index")
    assert triggers("compute_indicators") == outlets("link_master_index")  # the day's indicators after each link run
    assert outlets("compute_indicators") == {"mmi_indicators"}
    for dag_id in INGEST_DAGS.values():
        timetable = dag_bag.dags[dag_id].timetable  # on a clock of its own, in the departments' time
        assert timetable.asset_condition is None and timetable.expression and timetable.timezone == "Asia/Shanghai", dag_id


@pytest.mark.parametrize(
    "failure, expected",
    [
        (TransientError("the health API answered 503"), "retry"),
        (ConfigError("sources.health needs a token"), "fail"),
        (SourceError("human_resources", "drop folder /x does not exist"), "fail"),
        (StepFailed("statistics: cannot read the folder"), "fail"),
        (StoreError("cannot open the store at postgresql://…: connection refused"), "default"),
        (ConnectionResetError("the store's database went away"), "default"),
    ],
)
def test_transient_failures_retry_and_terminal_ones_fail_at_once(dag_bag: Any, failure: Exception, expected: str) -> None:
    """What each task's retry policy decides, as parsed and after the round trip through DAG serialization."""
    from airflow.sdk import ExceptionRetryPolicy

    for dag in dag_bag.dags.values():
        for task in dag.tasks:
            policy = task.retry_policy
            for evaluated in (policy, ExceptionRetryPolicy.deserialize(policy.serialize())):
                assert evaluated.evaluate(failure, try_number=1, max_tries=task.retries + 1).action.value == expected


def test_every_dag_is_serialized_into_the_metadata_database(airflow: Airflow) -> None:
    assert {dag_id for (dag_id,) in airflow.query("SELECT dag_id FROM serialized_dag")} == ALL_DAGS
