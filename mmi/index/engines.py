"""Which engine Splink trains and scores on, from `[linkage] backend`: the one place the service chooses.

DuckDB runs in the workspace's own connection. Spark runs on `[spark] master`; its files (the Parquet the job reads
and writes, Spark's warehouse and checkpoints) live in a folder beside the workspace, `<workspace>.spark/`, which
on a cluster must be a volume the workers mount at the same path (docker-compose.yml does).
"""

from __future__ import annotations

from linkage.scoring import DUCKDB_ENGINE, LinkageEngine
from mmi.config import Settings


def linkage_engine(settings: Settings) -> LinkageEngine:
    if settings.linkage.backend == "duckdb":
        return DUCKDB_ENGINE
    from linkage.spark import SparkEngine, spark_session  # here: pyspark is loaded only where Spark is used

    work_dir = settings.linkage.workspace.with_suffix(".spark")
    return SparkEngine(spark_session(settings.spark.master, settings.spark.conf, work_dir), work_dir / "exchange")
