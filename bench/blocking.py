"""Blocking benchmark: pairs recall of the blocking rules alone, and how many pairs they make, per noise and size.

    .venv/bin/python -m bench.blocking [--people 22000 220000] [--noise 1 3]

About 2.3 person records are delivered per person, so the defaults give about 50,000 and 500,000 source records
(the linkage issue's sizes). Each run generates the feeds (cached), ingests them into a fresh SQLite store, loads
the current person records for linkage, and measures every rule's added pairs and the cumulative pairs recall
against truth.csv. Results are printed and appended to bench/results/blocking.jsonl.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from bench.feeds import RESULTS, generated_feeds, ingested_store
from linkage.blocking import load_truth_pairs, measure_blocking
from mmi.index.inputs import load_person_records
from mmi.store.database import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[22_000, 220_000])
    parser.add_argument("--noise", type=float, nargs="+", default=[1.0, 3.0])
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for people in args.people:
        for noise in args.noise:
            result = {"people": people, "noise": noise, **measure(generated_feeds(people, noise))}
            print(json.dumps(result, ensure_ascii=False), flush=True)
            with (RESULTS / "blocking.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")


def measure(feeds: Path) -> dict[str, object]:
    duck = duckdb.connect()
    records = load_person_records(open_store(ingested_store(feeds)), duck)
    true_pairs = load_truth_pairs(duck, str(feeds / "truth.csv"))
    started = time.monotonic()
    steps = measure_blocking(duck, "truth_pairs")
    return {
        "records": records,
        "true_pairs": true_pairs,
        "pairs": steps[-1].cumulative_pairs,
        "pairs_per_record": round(steps[-1].cumulative_pairs / records, 2),
        "pairs_recall": round(steps[-1].cumulative_recall, 6),
        "seconds": round(time.monotonic() - started, 1),
        "rules": [{"rule": s.rule, "new_pairs": s.new_pairs, "recall": round(s.cumulative_recall, 6)} for s in steps],
    }


if __name__ == "__main__":
    main()
