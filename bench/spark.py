"""Spark benchmark: the same feeds linked by the index on DuckDB and on Spark (local[N]), side by side.

    .venv/bin/python -m bench.spark [--people 20000] [--master local[2]] [--lineage persist parquet]

For each size: generated feeds (cached), ingested once into a SQLite store (cached); then for DuckDB and for Spark,
on a copy of that store: training (`train_and_store`, the engine's own model) and the first full `mmi link`, timed;
the masters' agreement between the engines (pairs of records either engine puts in one master, and the share both
do) and each one's accuracy against truth.csv. `--lineage`: how Splink on Spark breaks long query plans (held in
executors' memory, or written to Parquet under the checkpoint folder), each measured. Printed and appended to
bench/results/spark.jsonl, with the machine's load.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, select

from bench.feeds import RESULTS, generated_feeds, ingested_store
from linkage.blocking import load_truth_pairs, measure_blocking
from linkage.inputs import RECORDS
from linkage.scoring import DUCKDB_ENGINE, LinkageEngine
from linkage.spark import SparkEngine, spark_session
from mmi.config import load_settings
from mmi.index import link_index, train_and_store
from mmi.index.evaluation import evaluate_index
from mmi.index.inputs import load_person_records
from mmi.store.database import open_store
from mmi.store.index_tables import master_xref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[20_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--lineage", nargs="+", default=["persist"], choices=["persist", "parquet"])
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for people in args.people:
        feeds = generated_feeds(people)
        store = Path(ingested_store(feeds).removeprefix("sqlite:///"))
        work = feeds.parent / f"{feeds.name}-spark"
        shutil.rmtree(work, ignore_errors=True)
        spark = spark_session(args.master, {}, work / "session")
        runs = {"duckdb": _run(DUCKDB_ENGINE, "duckdb", feeds, store, work / "duckdb")}
        for lineage in args.lineage:
            runs[f"spark-{lineage}"] = _run(
                SparkEngine(spark, work / "exchange", break_lineage=lineage), "spark", feeds, store, work / lineage
            )
        duck_pairs = runs["duckdb"].pop("together")
        for name, figures in runs.items():
            if name != "duckdb":
                pairs = figures.pop("together")
                figures["agreement_with_duckdb"] = round(len(duck_pairs & pairs) / len(duck_pairs | pairs), 6)
        result = {"people": people, "master": args.master, **_comparisons(store, feeds), **runs}
        print(json.dumps(result))
        with (RESULTS / "spark.jsonl").open("a") as out:
            out.write(json.dumps(result) + "\n")


def _run(splink: LinkageEngine, backend: str, feeds: Path, store: Path, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True)
    shutil.copy(store, work / "store.db")
    settings = load_settings(feeds / "mmi.toml")
    linkage = dataclasses.replace(settings.linkage, backend=backend, workspace=work / "workspace.duckdb")
    settings = dataclasses.replace(settings, store_url=f"sqlite:///{work / 'store.db'}", linkage=linkage)
    engine = open_store(settings.store_url)
    load_before = [round(load, 1) for load in os.getloadavg()]
    started = time.monotonic()
    train_and_store(engine, trained_by="bench.spark", on=splink)
    trained = time.monotonic() - started
    first = link_index(settings, engine, on=splink)
    accuracy = evaluate_index(engine, feeds / "truth.csv")
    figures = {
        "backend": backend,
        "load_before": load_before,
        "train_seconds": round(trained, 1),
        "first_link_seconds": first.seconds,
        "pairs_scored": first.pairs_scored,
        "masters": first.events["create"],
        "f1": round(float(accuracy["f1"]), 6),
        "precision": round(float(accuracy["precision"]), 6),
        "recall": round(float(accuracy["recall"]), 6),
        "load_after": [round(load, 1) for load in os.getloadavg()],
    }
    print(json.dumps(figures), flush=True)  # as each run ends: a long Spark run's figures survive an interruption
    return figures | {"together": _together(engine)}


def _comparisons(store: Path, feeds: Path) -> dict[str, Any]:
    """How many pairs the blocking rules make Splink compare (what its published figures count), per record."""
    duck = duckdb.connect()
    records = load_person_records(open_store(f"sqlite:///{store}"), duck, RECORDS)
    load_truth_pairs(duck, str(feeds / "truth.csv"))
    compared = measure_blocking(duck, "truth_pairs")[-1].cumulative_pairs
    return {"records": records, "blocked_comparisons": compared, "comparisons_per_record": round(compared / records, 2)}


def _together(engine: Engine) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    with engine.connect() as connection:
        for department, key, master in connection.execute(
            select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id)
        ):
            groups[master].append(f"{department}|{key}")
    return {pair for group in groups.values() for pair in itertools.combinations(sorted(group), 2)}


if __name__ == "__main__":
    main()
