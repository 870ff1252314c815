"""A Spark session for Splink: the master (`local[N]` or a cluster), Splink's similarity JAR, settings for small runs.

One session per process: Spark allows one SparkContext per JVM, so a second call with the same master returns the
session already running, and a call naming another master is refused rather than silently given the first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.errors import LinkageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Spark's defaults are for clusters: 200 shuffle partitions turn a few thousand pairs into 200 tiny tasks.
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",  # several sessions on one machine (tests, engineers) would fight for port 4040
    "spark.driver.memory": "2g",
}
CLUSTER_DEFAULTS = {"spark.sql.shuffle.partitions": "64"}


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
    from pyspark.sql import SparkSession
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
    for name, java_class, returns in get_scala_udfs():  # what Splink's SparkAPI registers too: usable without it
        session.udf.registerJavaFunction(name, java_class, returns)
    return session
