"""Ingest benchmark: records per second and peak memory, SQLite and PostgreSQL stores, two feed sizes.

    .venv/bin/python -m bench.ingest [--people 60000 300000] [--stores sqlite postgresql] [--mode parallel|sequential]

For each size it generates the four feeds once (cached under bench/results/feeds-<people>), serves the health
feed from a separate `python -m devtools health-api` process, and runs `mmi ingest` as a child process into a fresh store,
sampling the resident memory of it and its own processes together (not the health server's). Memory that stays
flat between the two sizes shows the feeds are streamed, not held. Results are printed and appended to bench/results/ingest.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.feeds import MMI, RESULTS, ROOT, config_for_port, generated_feeds, health_api

MODES = {"parallel": [], "sequential": ["--one-at-a-time"]}
POSTGRES = os.environ.get("MMI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[60_000, 300_000])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--mode", default="parallel", choices=sorted(MODES), help="departments side by side, or one at a time")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for people in args.people:
        feeds = generated_feeds(people)
        for store in args.stores:
            result = {"people": people, "store": store, "mode": args.mode, **run_ingest(feeds, store, MODES[args.mode])}
            print(json.dumps(result), flush=True)
            with (RESULTS / "ingest.jsonl").open("a") as handle:
                handle.write(json.dumps(result) + "\n")


def run_ingest(feeds: Path, store: str, extra: list[str]) -> dict[str, object]:
    env = {**os.environ, "MMI_STORE_URL": store_url(store, feeds)}
    with health_api(feeds) as port:
        config = config_for_port(feeds, port)
        output = RESULTS / "ingest-output.txt"
        started = time.monotonic()
        with output.open("w") as sink:
            ingest = subprocess.Popen(
                [*MMI, "ingest", "--config", str(config), *extra], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
            peak_total = watch_memory(ingest)
        seconds = time.monotonic() - started
    lines = output.read_text().strip().splitlines()
    if ingest.returncode != 0:
        raise SystemExit("ingest failed:\n" + "\n".join(lines[-20:]))
    reports = json.loads(lines[-1])
    delivered = sum(report["delivered"] for report in reports)
    return {
        "delivered": delivered,
        "seconds": round(seconds, 1),
        "records_per_second": round(delivered / seconds),
        # All of ingest's processes together (departments side by side, each a process), sampled every 0.1 s.
        "peak_rss_mib": round(peak_total / 2**20),
        "per_department": {report["department"]: report["delivered"] for report in reports},
    }


def watch_memory(process: subprocess.Popen[bytes]) -> int:
    """Wait for `process`, sampling the resident memory of it and all its descendants; return the peak sum."""
    import psutil

    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass  # a process ended between listing and reading it
        time.sleep(0.1)
    return peak


def store_url(store: str, feeds: Path) -> str:
    if store == "sqlite":
        database = feeds / f"bench-store-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{database}"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    main()
