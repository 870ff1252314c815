"""Splink on Spark: a session (the master, `local[N]` or a cluster; Splink's similarity JAR; settings for small
runs) and the engine that trains and scores on it (linkage.scoring.LinkageEngine).

One session per process: Spark allows one SparkContext per JVM, so a second call with the same master returns the
session already running, and a call naming another master is refused rather than silently given the first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from splink import Linker, SparkAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from linkage.dialects import SPARK
from linkage.model import model_in_dialect, trained_linker
from linkage.scoring import UNTRAINED_WARNING, TrainedModel, keep_pairs, trained_model
from schemas.errors import LinkageError

# Spark's defaults are for clusters: 200 shuffle partitions turn a few thousand pairs into 200 tiny tasks.
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",  # several sessions on one machine (tests, engineers) would fight for port 4040
    "spark.driver.memory": "2g",
}
CLUSTER_DEFAULTS = {"spark.sql.shuffle.partitions": "64"}
# How Splink cuts a long query plan between its steps: "persist" keeps each step's table in the executors (memory,
# spilling to disk), "parquet" writes it under the checkpoint folder (`bench.spark --lineage persist parquet`).
BREAK_LINEAGE = "persist"


def java_missing() -> str | None:
    """Why Spark cannot start here (no Java), or None."""
    java_home = os.environ.get("JAVA_HOME")
    if (java_home and Path(java_home, "bin", "java").exists()) or shutil.which("java"):
        return None
    return "Spark needs Java (17): no `java` on PATH and no JAVA_HOME"


def spark_session(master: str, conf: Mapping[str, str], work_dir: Path) -> SparkSession:
    """The process's Spark session on `master`, with Splink's similarity functions and `conf` over our defaults;
    its warehouse and scratch files under `work_dir`."""
    if reason := java_missing():
        raise LinkageError(reason)
    from splink.internals.spark.jar_location import get_scala_udfs, similarity_jar_location

    running = SparkSession.getActiveSession()
    if running is not None:
        if running.sparkContext.master != master:
            raise LinkageError(
                f"a Spark session on {running.sparkContext.master} is already running in this process; cannot start one on {master}"
            )
        return running
    work_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        **(LOCAL_DEFAULTS if master.startswith("local") else CLUSTER_DEFAULTS),
        # On the driver's classpath, and served by the driver to every executor, which fetches it into its work
        # folder: a cluster's workers need no copy of their own (tests/mmi/index/test_spark_cluster.py checks it).
        "spark.jars": similarity_jar_location(),
        "spark.sql.warehouse.dir": str(work_dir / "warehouse"),
        "spark.local.dir": str(work_dir / "scratch"),
        "spark.sql.session.timeZone": "UTC",  # dates and timestamps read from Parquet as they were written
        **conf,
    }
    builder = SparkSession.builder.master(master).appName("mmi-linkage")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(work_dir / "checkpoints"))  # where Splink breaks long lineages
    for name, java_class, returns in get_scala_udfs():  # what Splink's SparkAPI registers too: usable without it
        session.udf.registerJavaFunction(name, java_class, returns)
    return session


class SparkEngine:
    """Splink on Spark (linkage.scoring.LinkageEngine). The DuckDB tables it is given go to Spark as Parquet under
    `exchange_dir`, and the pairs come back the same way: a directory every executor must see (on a cluster, a
    shared volume mounted at the same path), emptied after each call."""

    name = "spark"

    def __init__(self, spark: SparkSession, exchange_dir: Path, *, break_lineage: str = BREAK_LINEAGE) -> None:
        self.spark, self.exchange_dir, self.break_lineage = spark, exchange_dir, break_lineage

    def train(self, duck: duckdb.DuckDBPyConnection, table: str) -> TrainedModel:
        with self._exchange() as folder:
            view = self._share(duck, table, folder)
            linker = trained_linker(self._api(), view)
            return trained_model(linker, lambda sql: self.spark.sql(sql).collect())

    def score_within(self, duck: duckdb.DuckDBPyConnection, table: str, model: TrainedModel, min_probability: float, into: str) -> int:
        with self._exchange() as folder:
            db_api, linker = self._scoring_linker(self._share(duck, table, folder), model, folder)
            predictions = linker.inference.predict_within(
                db_api.register(table), threshold_match_probability=min_probability, warning_mode=UNTRAINED_WARNING
            )
            return self._bring_back(duck, predictions, folder, into)

    def score_between(
        self, duck: duckdb.DuckDBPyConnection, changed: str, everyone: str, model: TrainedModel, min_probability: float, into: str
    ) -> int:
        with self._exchange() as folder:
            db_api, linker = self._scoring_linker(self._share(duck, everyone, folder), model, folder)
            predictions = linker.inference.predict_between(
                db_api.register(self._share(duck, changed, folder)),
                db_api.register(everyone),
                threshold_match_probability=min_probability,
                warning_mode=UNTRAINED_WARNING,
            )
            return self._bring_back(duck, predictions, folder, into)

    def _api(self) -> SparkAPI:
        # The UDFs are registered by spark_session already.
        return SparkAPI(spark_session=self.spark, break_lineage_method=self.break_lineage, register_udfs_automatically=False)

    def _scoring_linker(self, table: str, model: TrainedModel, folder: Path) -> tuple[SparkAPI, Linker]:
        db_api = self._api()
        linker = Linker(db_api.register(table), model_in_dialect(model.settings, SPARK))
        logging.getLogger("splink").setLevel(logging.WARNING)  # after the Linker: it sets its own level
        for column, frequencies in model.term_frequencies.items():
            lookup = pa.table({column: list(frequencies), f"tf_{column}": list(frequencies.values())})
            path = folder / f"tf_{column}.parquet"
            pq.write_table(lookup, path)
            view = f"model_tf_{column}_{model.sha256[:16]}"
            self.spark.read.parquet(str(path)).createOrReplaceTempView(view)
            linker.table_management.register_term_frequency_lookup(db_api.register(view), column)
        return db_api, linker

    def _share(self, duck: duckdb.DuckDBPyConnection, table: str, folder: Path) -> str:
        """`table` written as Parquet into `folder`, and a Spark view of the same name over it."""
        path = folder / f"{table}.parquet"
        duck.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        self.spark.read.parquet(str(path)).createOrReplaceTempView(table)
        return table

    def _bring_back(self, duck: duckdb.DuckDBPyConnection, predictions: SplinkDataFrame, folder: Path, into: str) -> int:
        path = folder / "predictions"
        columns = "unique_id_l, unique_id_r, match_probability, match_weight"
        self.spark.sql(f"SELECT {columns} FROM {predictions.physical_name}").write.parquet(str(path))
        predictions.drop_table_from_database_and_remove_from_cache()
        return keep_pairs(duck, f"read_parquet('{path}/*.parquet')", into)

    @contextlib.contextmanager
    def _exchange(self) -> Iterator[Path]:
        folder = self.exchange_dir / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            self.spark.catalog.clearCache()
            shutil.rmtree(folder, ignore_errors=True)
