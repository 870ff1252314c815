"""Ingest benchmark: records per second and peak memory, SQLite and PostgreSQL stores, two feed sizes.

    .venv/bin/python bench/ingest.py [--people 300000 60000] [--stores sqlite postgresql]

For each size it generates the four feeds once (cached under bench/results/feeds-<people>), serves the health
feed from a separate `mmi health-api` process, and runs `mmi ingest` as a child process into a fresh store, so
that the peak resident memory measured is the ingest's alone. Memory that stays flat between the two sizes
shows the feeds are streamed, not held. Results are printed and appended to bench/results/ingest.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MMI = [sys.executable, "-m", "mmi.cli"]
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


def generated_feeds(people: int) -> Path:
    feeds = RESULTS / f"feeds-{people}"
    if not (feeds / "mmi.toml").exists():
        started = time.monotonic()
        subprocess.run([*MMI, "generate", "--out", str(feeds), "--people", str(people), "--seed", "11"], check=True, cwd=ROOT)
        print(f"generated {people} people in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return feeds


def run_ingest(feeds: Path, store: str, extra: list[str]) -> dict[str, object]:
    port = free_port()
    health = subprocess.Popen([*MMI, "health-api", "--data", str(feeds / "health"), "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
    env = {**os.environ, "MMI_STORE_URL": store_url(store, feeds)}
    config = feeds / "bench.toml"
    config.write_text((feeds / "mmi.toml").read_text(encoding="utf-8").replace("127.0.0.1:8701", f"127.0.0.1:{port}"), encoding="utf-8")
    try:
        wait_for(port)
        output = RESULTS / "ingest-output.txt"
        started = time.monotonic()
        with output.open("w") as sink:
            ingest = subprocess.Popen([*MMI, "ingest", "--config", str(config), *extra], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
            peak_total = watch_memory(ingest)
        seconds = time.monotonic() - started
    finally:
        health.terminate()
        health.wait()
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the health API did not start on port {port}")


if __name__ == "__main__":
    main()
