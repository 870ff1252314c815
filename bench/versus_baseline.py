"""Wall time of the whole index against the plain-Splink baseline, on the same feeds, in one run.

    .venv/bin/python -m bench.versus_baseline [--people 20000] [--noise 1] [--twins 0.05] [--namesakes 0.06]

One side is what an operator runs: `mmi ingest` into a fresh SQLite store (the health API served by a separate
process, as bench.feeds does), then the first `mmi link` (which trains the model, since the store has none, and
writes the whole index: masters, golden records, xref, pairs, conflicts, events), each as its own process. The
other is bench/baseline.py as an analyst would run it on the records that ingest stored: load them into DuckDB,
train, predict, cluster at the same threshold. Both are measured against truth.csv. The ratio is the first
side's seconds over the second's; the parts are printed too. Appended to bench/results/versus_baseline.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
from splink import DuckDBAPI

from bench.baseline import trained_baseline
from bench.feeds import MMI, RESULTS, ROOT, config_for_port, generated_feeds, health_api
from linkage.blocking import load_truth_pairs
from linkage.evaluate import evaluate_clusters
from mmi.index.evaluation import evaluate_index
from mmi.index.inputs import load_person_records
from mmi.store.database import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--twins", type=float, default=0.05)
    parser.add_argument("--namesakes", type=float, default=0.06)
    parser.add_argument("--threshold", type=float, default=0.999)
    args = parser.parse_args()
    feeds = generated_feeds(args.people, args.noise, 11, {"twins": args.twins, "namesakes": args.namesakes})
    work = feeds / "versus-baseline"
    work.mkdir(exist_ok=True)
    for stale in work.glob("*"):
        stale.unlink()
    store = f"sqlite:///{work / 'store.db'}"
    index = _index_side(feeds, store, work)
    baseline = _baseline_side(store, feeds / "truth.csv", args.threshold)
    result = {
        "people": args.people,
        "noise": args.noise,
        "twins": args.twins,
        "namesakes": args.namesakes,
        **index,
        **baseline,
        "ratio": round(index["index_seconds"] / baseline["baseline_seconds"], 2),
        "ratio_link_only": round(index["link_seconds"] / baseline["baseline_seconds"], 2),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result), flush=True)
    with (RESULTS / "versus_baseline.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")


def _index_side(feeds: Path, store: str, work: Path) -> dict[str, float]:
    env = {**os.environ, "MMI_STORE_URL": store}
    with health_api(feeds) as port:
        config = config_for_port(feeds, port, "versus-baseline.toml")
        config.write_text(
            config.read_text(encoding="utf-8") + f'\n[linkage]\nworkspace = "{work / "workspace.duckdb"}"\n', encoding="utf-8"
        )
        started = time.monotonic()
        subprocess.run([*MMI, "ingest", "--config", str(config)], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        ingested = time.monotonic()
    subprocess.run([*MMI, "link", "--config", str(config)], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    linked = time.monotonic()
    accuracy = evaluate_index(open_store(store), feeds / "truth.csv")
    return {
        "ingest_seconds": round(ingested - started, 1),
        "link_seconds": round(linked - ingested, 1),
        "index_seconds": round(linked - started, 1),
        "index_precision": round(float(accuracy["precision"]), 6),
        "index_recall": round(float(accuracy["recall"]), 6),
        "index_f1": round(float(accuracy["f1"]), 6),
    }


def _baseline_side(store: str, truth: Path, threshold: float) -> dict[str, float]:
    duck = duckdb.connect()
    started = time.monotonic()
    load_person_records(open_store(store), duck)
    linker = trained_baseline(DuckDBAPI(connection=duck))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=threshold)
    finished = time.monotonic()
    load_truth_pairs(duck, str(truth))
    accuracy = evaluate_clusters(duck, clusters.physical_name)
    return {
        "baseline_seconds": round(finished - started, 1),
        "baseline_precision": round(accuracy.precision, 6),
        "baseline_recall": round(accuracy.recall, 6),
        "baseline_f1": round(accuracy.f1, 6),
    }


if __name__ == "__main__":
    main()
