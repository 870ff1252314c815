"""Linkage benchmark: the project's model against the plain-Splink baseline, on the same feeds, in one run.

    .venv/bin/python -m bench.linkage [--people 22000 220000] [--noise 1 3] [--threshold 0.999]

For each size and noise: generated feeds (cached), ingested once into a SQLite store, loaded as the linkage input
table; then each model is trained, predicts over its blocking rules, clusters at the threshold, and is measured
against truth.csv: pairwise precision, recall, F1, the share of people clustered exactly, wall time (train,
predict, cluster) and the process's peak memory while it ran.

Then the index itself (`mmi link`, on a copy of the store): a first full run, two deliveries linked incrementally
(a full day with a survey wave, then the daily 1%), and a full run over the same records for comparison (which
must change nothing: incremental and full agree). Results are printed and appended to bench/results/linkage.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psutil
from splink import DuckDBAPI, Linker
from sqlalchemy import Engine, func, select

from bench.baseline import trained_baseline
from bench.feeds import RESULTS, generated_feeds, ingest_into, ingested_store
from linkage.blocking import load_truth_pairs
from linkage.evaluate import evaluate_clusters
from linkage.model import trained_linker
from mmi.config import load_settings
from mmi.index import link_index, train_and_store
from mmi.index.evaluation import evaluate_index
from mmi.index.inputs import load_person_records
from mmi.store.database import open_store
from mmi.store.tables import source_record
from synthetic import generate_delta

MODELS: dict[str, Callable[[DuckDBAPI], Linker]] = {"project": trained_linker, "baseline": trained_baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[22_000, 220_000])
    parser.add_argument("--noise", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--threshold", type=float, default=0.999)
    parser.add_argument("--skip-index", action="store_true", help="only the models, not the index's full and incremental runs")
    parser.add_argument("--index-only", action="store_true", help="only the index's full and incremental runs, not the models")
    parser.add_argument("--twins", type=float, help="population mix: share of people who are twins (default: the generator's)")
    parser.add_argument("--namesakes", type=float, help="population mix: share of people in same-name groups born the same month")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for people in args.people:
        for noise in args.noise:
            mix = {name: value for name, value in (("twins", args.twins), ("namesakes", args.namesakes)) if value is not None}
            feeds = generated_feeds(people, noise, mix=mix)
            results = [] if args.index_only else [{"model": model, **run(feeds, model, args.threshold)} for model in MODELS]
            if not args.skip_index:
                results.append({"model": "index", **run_index(feeds)})
            for result in results:
                result = {"people": people, "noise": noise, "mix": mix, **result}
                print(json.dumps(result), flush=True)
                with (RESULTS / "linkage.jsonl").open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(result) + "\n")


def run(feeds: Path, model: str, threshold: float) -> dict[str, object]:
    duck = duckdb.connect()
    records = load_person_records(open_store(ingested_store(feeds)), duck)
    load_truth_pairs(duck, str(feeds / "truth.csv"))
    with PeakMemory() as memory:
        started = time.monotonic()
        linker = MODELS[model](DuckDBAPI(connection=duck))
        trained = time.monotonic()
        predictions = linker.inference.predict(threshold_match_probability=0.01)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=threshold)
        finished = time.monotonic()
    accuracy = evaluate_clusters(duck, clusters.physical_name)
    return {
        "records": records,
        **{key: round(value, 6) if isinstance(value, float) else value for key, value in accuracy.as_dict().items()},
        "train_seconds": round(trained - started, 1),
        "predict_and_cluster_seconds": round(finished - trained, 1),
        "wall_seconds": round(finished - started, 1),
        "peak_rss_mib": round(memory.peak / 2**20),
    }


def run_index(feeds: Path) -> dict[str, object]:
    """The index on a copy of the ingested store: training, a first full run, then two deliveries, each linked
    incrementally. The first is a full day (every department, the day's held-back HR file and a new survey wave);
    the second is the daily 1%: 1% of people changed or new, from the departments that deliver daily (a survey
    wave is a quarterly bulk load, not a daily delta). Last, a full run over the same records, which must change
    nothing (incremental and full agree) and is the time an incremental run is compared with."""
    ingested_store(feeds)  # the copy starts from the ingested store (built once here if only the index is measured)
    work = feeds.parent / f"{feeds.name}-index"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(feeds, work, ignore=shutil.ignore_patterns("bench*.toml", "var", "grid", "versus-baseline*"))
    store = f"sqlite:///{work / 'blocking-store.db'}"
    settings = load_settings(work / "mmi.toml")
    settings = dataclasses.replace(
        settings, store_url=store, linkage=dataclasses.replace(settings.linkage, workspace=work / "workspace.duckdb")
    )
    engine = open_store(store)
    figures: dict[str, object] = {}
    with PeakMemory() as memory:
        started = time.monotonic()
        train_and_store(engine, trained_by="bench")
        figures["index_train_seconds"] = round(time.monotonic() - started, 1)
        first = link_index(settings, engine)
    figures |= {"index_first_full_seconds": first.seconds, "index_peak_rss_mib": round(memory.peak / 2**20)}
    for label, departments in (("day", None), ("daily_1pct", ("public_security", "human_resources", "health"))):
        generate_delta(work, seed=99 if label == "day" else 100, fraction=0.01)
        ingest_into(work, store, departments)
        run = link_index(settings, engine)
        figures |= {
            f"{label}_changed_records": run.records_changed,
            f"{label}_changed_share": round(run.records_changed / _records(engine), 4),
            f"{label}_incremental_seconds": run.seconds,
            f"{label}_reclustered": run.records_reclustered,
            f"{label}_events": dict(run.events),
        }
    full = link_index(settings, engine, full=True)
    accuracy = evaluate_index(engine, work / "truth.csv")
    return figures | {
        "full_after_deltas_seconds": full.seconds,
        "full_after_deltas_events": dict(full.events),
        "full_over_daily_incremental": round(full.seconds / float(figures["daily_1pct_incremental_seconds"]), 1),  # type: ignore[arg-type]
        "index_precision": round(float(accuracy["precision"]), 6),
        "index_recall": round(float(accuracy["recall"]), 6),
        "index_f1": round(float(accuracy["f1"]), 6),
    }


def _records(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(source_record).where(source_record.c.is_current.is_(True))).scalar_one()
        )


class PeakMemory:
    """The process's resident memory, sampled every 0.1 s while the block runs."""

    def __enter__(self) -> PeakMemory:
        self.peak, self._running = 0, True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._running = False
        self._thread.join()

    def _sample(self) -> None:
        process = psutil.Process()
        while self._running:
            self.peak = max(self.peak, process.memory_info().rss)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
