"""The index linked on a real Spark standalone cluster: a Master and a Worker started here as JVMs of their own,
through pyspark's `bin/spark-class` and the classes the compose file's `apache/spark` containers run, on 127.0.0.1
and free ports; `mmi link` as a process of its own is the driver, as the link task is in a deployment (one
SparkContext per JVM: this process may hold the `spark` fixture's local[2] session). The store (1,000 generated
people, SQLite, ingested once) gets a model trained on DuckDB; one copy is linked on DuckDB, one on the cluster,
first in full and then, after the departments' next delivery, incrementally. The cluster must have run each link
(the master lists the finished applications, the worker's folder holds their executor and Splink's JAR it fetched),
and both engines must give the same masters and the same accuracy.

Training on the cluster is not in this test: it is the same code as on local[2] (test_spark.py), and it takes two
to three minutes at this size on a busy 2-core machine (hundreds of small Spark stages), against seconds for scoring.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from devtools.feeds import served_feeds
from linkage.spark import java_missing
from mmi.config import Settings, load_settings
from mmi.index import link_index, train_and_store
from mmi.index.evaluation import evaluate_index
from mmi.ingest import ingest
from mmi.store.database import open_store
from synthetic import generate_delta
from tests.mmi.index.test_link import members

pytestmark = [pytest.mark.spark, pytest.mark.slow]
PEOPLE = 1000
ROOT = Path(__file__).resolve().parents[3]  # the checkout whose code `mmi link` must run (PYTHONPATH)
APP_NAME = "mmi-linkage"  # linkage.spark's application name, as the master lists it


@dataclasses.dataclass
class Cluster:
    master: str  # spark://127.0.0.1:PORT
    ui: str  # the master's web UI; /json/ is its state
    work: Path  # the worker's folder: one per application, with each executor's stderr and the JARs it fetched

    def state(self) -> dict[str, Any]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, whatever the proxy settings
        with opener.open(f"{self.ui}/json/", timeout=5) as response:
            state: dict[str, Any] = json.load(response)
            return state

    def finished_apps(self, at_least: int = 0) -> list[dict[str, Any]]:
        """The master's finished mmi-linkage applications, once there are `at_least` (a driver unregisters as its JVM
        exits, which may be a moment after its Python process)."""
        deadline = time.monotonic() + 30
        while True:
            apps = [app for app in self.state()["completedapps"] if app["name"] == APP_NAME and app["state"] == "FINISHED"]
            if len(apps) >= at_least or time.monotonic() > deadline:
                return apps
            time.sleep(0.5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """`process` and its process group (a Worker's executors are its children): TERM, then KILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # children may outlive the group's leader by a moment
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def _started(name: str, arguments: list[str], folder: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """pyspark's `bin/spark-class` running `arguments` (a JVM; it execs java), in a session of its own so that it and
    its children stop together; its log in `folder`/<name>.log."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    with (folder / f"{name}.log").open("wb") as log:
        process = subprocess.Popen([str(spark_class), *arguments], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            yield process
        finally:
            _stop(process)


def _log_tail(folder: Path, name: str) -> str:
    return (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A Spark standalone cluster on this machine, a Master and one Worker (2 cores, 2 GiB), until the module ends.
    Skipped where Java is missing, except under CI, where it is required."""
    if reason := java_missing():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Spark cluster test is required under CI: {reason}")
        pytest.skip(reason)
    import pyspark

    folder = tmp_path_factory.mktemp("spark-cluster")
    (folder / "conf").mkdir()
    port, ui_port, worker_ui_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_CONF_DIR": str(folder / "conf"),  # empty: nothing of this machine's Spark settings
        "SPARK_LOCAL_IP": "127.0.0.1",  # every service binds to the loopback, the web UIs too
        "SPARK_LOCAL_DIRS": str(folder / "scratch"),  # the executors' shuffle and spill files
        "SPARK_DAEMON_MEMORY": "512m",  # the Master's and the Worker's own heaps
    }
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}", folder / "work")
    master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)]
    worker = ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port", str(worker_ui_port)]
    worker += ["--work-dir", str(cluster.work), "--cores", "2", "--memory", "2g", cluster.master]
    with _started("master", master, folder, env) as master_process, _started("worker", worker, folder, env) as worker_process:
        deadline = time.monotonic() + 120
        while True:  # until the worker has registered with the master
            for name, process in (("master", master_process), ("worker", worker_process)):
                if process.poll() is not None:
                    pytest.fail(f"the Spark {name} exited ({process.returncode}):\n{_log_tail(folder, name)}")
            with contextlib.suppress(OSError, ValueError):
                if cluster.state()["aliveworkers"] == 1:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"no worker registered within 120 s:\n{_log_tail(folder, 'master')}\n{_log_tail(folder, 'worker')}")
            time.sleep(0.5)
        yield cluster


@dataclasses.dataclass
class Store:
    settings: Settings  # a copy of the ingested store and its own workspace, the feeds' sources, linked on DuckDB
    config: Path  # the store and workspace as a config file, for `mmi link` in another process (DuckDB, or the cluster)

    def engine(self) -> Engine:
        return open_store(self.settings.store_url)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated feeds' folder, with `ingested.db`: the feeds ingested and a model trained on DuckDB."""
    folder = tmp_path_factory.mktemp("cluster-feeds")
    with served_feeds(folder, people=PEOPLE, seed=23, noise=2.0) as feeds:
        settings = feeds.settings(store_url=f"sqlite:///{folder / 'ingested.db'}")
        engine = open_store(settings.store_url)
        assert all(report.error is None for report in ingest(settings, engine, parallel=False))
    train_and_store(engine, trained_by="tests (DuckDB)")
    engine.dispose()
    return folder


def _store(folder: Path, work: Path, spark_master: str | None = None) -> Store:
    """A copy of the ingested store in `work`; linked on DuckDB, or on the cluster at `spark_master`."""
    shutil.copy(folder / "ingested.db", work / "store.db")
    config = work / "mmi.toml"
    text = f'[store]\nurl = "sqlite:///{work / "store.db"}"\n[linkage]\nworkspace = "{work / "workspace.duckdb"}"\n'
    if spark_master:
        spark_conf = {  # over linkage.spark's defaults for a cluster, as an operator's config would say
            "spark.driver.host": "127.0.0.1",  # where the executors reach the driver (deploy/mmi.toml: airflow-worker)
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",  # the driver's own UI: not needed, and port 4040 may be taken
            "spark.ui.showConsoleProgress": "false",
        }
        conf = ", ".join(f'"{key}" = "{value}"' for key, value in spark_conf.items())
        text += f'backend = "spark"\n[spark]\nmaster = "{spark_master}"\nconf = {{ {conf} }}\n'
    config.write_text(text, encoding="utf-8")
    feeds = load_settings(folder / "mmi.toml")  # the departments' sources too, for the delivery ingested later
    linkage = dataclasses.replace(feeds.linkage, workspace=work / "workspace.duckdb")
    return Store(dataclasses.replace(feeds, store_url=f"sqlite:///{work / 'store.db'}", linkage=linkage), config)


def _mmi(*arguments: str, timeout: float = 400) -> dict[str, Any]:
    """`mmi` run by this interpreter in a process (and session) of its own, on this checkout's code; its JSON report."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "mmi.cli", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)  # until the driver's JVM too has closed the pipes
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM
        out, err = process.communicate()
        pytest.fail(f"`mmi {' '.join(arguments)}` did not finish within {timeout} s:\n{err[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its session is left
    assert process.returncode == 0, f"`mmi {' '.join(arguments)}` exited {process.returncode}:\n{err[-3000:]}"
    report: dict[str, Any] = json.loads(out)
    return report


def _together(engine: Engine) -> set[tuple[str, str]]:
    """Every pair of records the index puts in one master."""
    return {pair for group in members(engine).values() for pair in itertools.combinations(sorted(group), 2)}


def _agreement(one: Engine, other: Engine) -> tuple[float, int]:
    """The share of pairs either index joins that both join, as test_spark.py measures it; and how many differ."""
    left, right = _together(one), _together(other)
    assert len(left) > PEOPLE  # records do get linked
    return len(left & right) / len(left | right), len(left ^ right)


def _ran_on_the_cluster(cluster: Cluster, app: dict[str, Any]) -> None:
    """`app` (a finished application the master lists) had an executor on the worker, which fetched Splink's
    similarity JAR from the driver (spark.jars) and ran tasks."""
    [executor] = (cluster.work / app["id"]).iterdir()  # one worker: one executor per application
    assert list(executor.glob("scala-udf-similarity*.jar")), sorted(executor.iterdir())
    assert "Finished task" in (executor / "stderr").read_text(encoding="utf-8", errors="replace")


@dataclasses.dataclass
class Linked:
    duckdb: Store
    cluster: Store
    duckdb_report: Any  # the first run's LinkReport
    cluster_report: dict[str, Any]  # `mmi link`'s
    cluster_apps: list[dict[str, Any]]  # the master's finished mmi-linkage applications after it


@pytest.fixture(scope="module")
def linked(cluster: Cluster, ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Linked:
    """The store linked in full on DuckDB (in this process) and on the cluster (`mmi link`)."""
    on_duckdb = _store(ingested, tmp_path_factory.mktemp("on-duckdb"))
    on_cluster = _store(ingested, tmp_path_factory.mktemp("on-cluster"), cluster.master)
    engine = on_duckdb.engine()
    duckdb_report = link_index(on_duckdb.settings, engine)
    engine.dispose()
    cluster_report = _mmi("link", "--config", str(on_cluster.config))
    return Linked(on_duckdb, on_cluster, duckdb_report, cluster_report, cluster.finished_apps(at_least=1))


def test_a_store_linked_on_the_cluster_has_duckdbs_masters_and_accuracy(linked: Linked, cluster: Cluster, ingested: Path) -> None:
    on_cluster, on_duckdb = linked.cluster_report, linked.duckdb_report
    assert on_cluster["mode"] == on_duckdb.mode == "full" and on_cluster["model_version_id"] == on_duckdb.model_version_id
    assert on_cluster["pairs_scored"] == on_duckdb.pairs_scored > PEOPLE  # one model: the same pairs scored on both
    assert on_cluster["events"] == dict(on_duckdb.events)
    [app] = linked.cluster_apps  # the one run so far
    _ran_on_the_cluster(cluster, app)
    duckdb_engine, cluster_engine = linked.duckdb.engine(), linked.cluster.engine()
    agreement, differing = _agreement(duckdb_engine, cluster_engine)
    assert agreement >= 0.999, f"{agreement:.5f}: {differing} pairs differ"
    truth = ingested / "truth.csv"
    duckdb_accuracy, cluster_accuracy = evaluate_index(duckdb_engine, truth), evaluate_index(cluster_engine, truth)
    assert duckdb_accuracy["f1"] > 0.98
    assert abs(duckdb_accuracy["f1"] - cluster_accuracy["f1"]) <= 0.001, (duckdb_accuracy, cluster_accuracy)
    duckdb_engine.dispose()
    cluster_engine.dispose()


def test_a_delivery_linked_incrementally_on_the_cluster_gives_duckdbs_masters(linked: Linked, cluster: Cluster, ingested: Path) -> None:
    generate_delta(ingested, seed=5, fraction=0.05)
    with served_feeds(ingested) as feeds:
        for store in (linked.duckdb, linked.cluster):
            engine = store.engine()
            settings = store.settings.with_source("health", feeds.settings().sources["health"])
            assert all(report.error is None for report in ingest(settings, engine, parallel=False))
            engine.dispose()
    duckdb_engine = linked.duckdb.engine()
    on_duckdb = link_index(linked.duckdb.settings, duckdb_engine)
    on_cluster = _mmi("link", "--config", str(linked.cluster.config))
    assert on_cluster["mode"] == on_duckdb.mode == "incremental"
    assert on_cluster["records_changed"] == on_duckdb.records_changed > 0
    assert on_cluster["pairs_scored"] == on_duckdb.pairs_scored and on_cluster["events"] == dict(on_duckdb.events) != {}
    earlier = {app["id"] for app in linked.cluster_apps}
    [app] = [app for app in cluster.finished_apps(at_least=len(earlier) + 1) if app["id"] not in earlier]  # this run's
    _ran_on_the_cluster(cluster, app)
    cluster_engine = linked.cluster.engine()
    agreement, differing = _agreement(duckdb_engine, cluster_engine)
    assert agreement >= 0.999, f"{agreement:.5f}: {differing} pairs differ"
    duckdb_engine.dispose()
    cluster_engine.dispose()
