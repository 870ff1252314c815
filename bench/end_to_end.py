"""End to end at scale: `mmi ingest` → `mmi link` (first run, training included) → `mmi publish`, then the daily 1%.

    .venv/bin/python -m bench.end_to_end [--people 430000] [--stores sqlite postgresql]

What an operator runs on the first day and on every day after, each step as its own `mmi` process, on generated
feeds (430,000 people make about a million source records) and a fresh store of each kind. For each step: wall
time, CPU seconds and the peak resident memory of the step's processes together (ingest runs one process per department).
Then the daily 1% (1% of people new or changed, from the departments that deliver daily) ingested, linked
incrementally and published. Accuracy of the first index against truth.csv. The issue's aims: the first day in at
most 5 minutes with at most 4 GB. The link runs' own stages (mmi.index.link.Stages) come with them. Printed and
appended to bench/results/end_to_end.jsonl, with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.feeds import MMI, RESULTS, ROOT, config_for_port, generated_feeds, health_api
from bench.ingest import store_url, watch_memory
from mmi.index.evaluation import evaluate_index
from mmi.store.database import open_store
from mmi.store.index_tables import master_record
from mmi.store.tables import service_event, source_record
from synthetic import generate_delta

DAILY = ("public_security", "human_resources", "health")  # a survey wave is a quarterly bulk load, not a daily delta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=430_000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    feeds = generated_feeds(args.people)
    for store in args.stores:
        result = {"people": args.people, "store": store, "load_before": os.getloadavg()[0], **run(feeds, store)}
        print(json.dumps(result, indent=2), flush=True)
        with (RESULTS / "end_to_end.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(result) + "\n")


def run(feeds: Path, store: str) -> dict[str, object]:
    """Day one and the daily 1% on a copy of the feeds (the delta is written into the copy) and a fresh store."""
    work = feeds.parent / f"{feeds.name}-end-to-end"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(feeds, work, ignore=shutil.ignore_patterns("*.db", "*.db.*", "bench*.toml", "var", "keys", "*-index", "grid"))
    url = store_url(store, work)
    steps: dict[str, dict[str, float]] = {}
    with health_api(work) as port:
        config = config_for_port(work, port, "end-to-end.toml")
        config.write_text(
            config.read_text(encoding="utf-8") + f'\n[linkage]\nworkspace = "{work / "workspace.duckdb"}"\n', encoding="utf-8"
        )
        for step in ("ingest", "link", "publish"):
            steps[step] = _timed(step, [step], config, url, work)
        accuracy = evaluate_index(open_store(url), work / "truth.csv")
        generate_delta(work, seed=100, fraction=0.01)
        for department in DAILY:
            steps[f"daily_ingest_{department}"] = _timed(
                f"daily_ingest_{department}", ["ingest", "--source", department], config, url, work
            )
        for step in ("link", "publish"):
            steps[f"daily_{step}"] = _timed(f"daily_{step}", [step], config, url, work)
    first_day = [steps[step] for step in ("ingest", "link", "publish")]
    daily = [figures for step, figures in steps.items() if step.startswith("daily_")]
    return {
        "delivered_rows": _delivered(work / "ingest.out"),
        **_held(url),
        "steps": steps,
        "link_stages": _link_stages(work / "link.out"),
        "daily_link_stages": _link_stages(work / "daily_link.out"),
        "first_day_seconds": round(sum(s["seconds"] for s in first_day), 1),
        "first_day_peak_rss_mib": max(s["peak_rss_mib"] for s in first_day),
        "daily_seconds": round(sum(s["seconds"] for s in daily), 1),
        "daily_peak_rss_mib": max(s["peak_rss_mib"] for s in daily),
        "index_precision": round(float(accuracy["precision"]), 6),
        "index_recall": round(float(accuracy["recall"]), 6),
        "index_f1": round(float(accuracy["f1"]), 6),
    }


def _timed(label: str, command: list[str], config: Path, url: str, work: Path) -> dict[str, float]:
    """One `mmi` command as its own process: its wall time and the peak memory of it and its children."""
    output = work / f"{label}.out"
    started, cpu_before = time.monotonic(), _children_cpu()
    with output.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [*MMI, *command, "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "MMI_STORE_URL": url},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        peak = watch_memory(process)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"mmi {' '.join(command)} failed:\n" + "\n".join(output.read_text(encoding="utf-8").splitlines()[-20:]))
    return {"seconds": round(seconds, 1), "cpu_seconds": round(_children_cpu() - cpu_before, 1), "peak_rss_mib": round(peak / 2**20)}


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and theirs): on a shared machine wall time follows the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _held(url: str) -> dict[str, int]:
    """What the store holds after the daily 1%: current source (person) records and service events, masters."""
    tables = {"source_records": source_record, "service_events": service_event}
    with open_store(url).connect() as connection:
        held = {
            name: int(connection.execute(select(func.count()).select_from(table).where(table.c.is_current.is_(True))).scalar_one())
            for name, table in tables.items()
        }
        active = master_record.c.status == "active"
        held["masters"] = int(connection.execute(select(func.count()).select_from(master_record).where(active)).scalar_one())
    return held


def _link_stages(link_output: Path) -> dict[str, dict[str, float]]:
    """Where a link run's time and memory went: its report's stages (mmi.index.link.Stages), from the last line."""
    return dict(json.loads(link_output.read_text(encoding="utf-8").strip().splitlines()[-1])["stages"])


def _delivered(ingest_output: Path) -> int:
    """The rows the first ingest delivered (person records and service events), from its report (the last line of
    its output, JSON)."""
    reports = json.loads(ingest_output.read_text(encoding="utf-8").strip().splitlines()[-1])
    return sum(int(report["delivered"]) for report in reports)


if __name__ == "__main__":
    main()
