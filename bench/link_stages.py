"""Where a first `mmi link` spends its time and memory, stage by stage.

    .venv/bin/python -m bench.link_stages [--people 50000] [--profile]

Ingests generated feeds once into a SQLite store kept under bench/results/ and copied before each run, then runs
the first link (training included) as its own process, as an operator would, and prints the run report's
`stages` (mmi.index.link.Stages): wall seconds per stage and the peak resident memory once each ended.
`--profile` also writes a cProfile of the link process to bench/results/link-<people>.prof and prints its top
functions by cumulative time. Appended to bench/results/link_stages.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import time

from bench.feeds import MMI, RESULTS, ROOT, config_for_port, generated_feeds, health_api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    feeds = generated_feeds(args.people, 1.0, 11, {"twins": 0.05, "namesakes": 0.06})
    work = feeds / "link-stages"
    work.mkdir(exist_ok=True)
    ingested = work / "ingested.db"
    with health_api(feeds) as port:
        config = config_for_port(feeds, port, "link-stages.toml")
        workspace = work / "workspace.duckdb"
        config.write_text(config.read_text(encoding="utf-8") + f'\n[linkage]\nworkspace = "{workspace}"\n', encoding="utf-8")
        if not ingested.exists():
            env = {**os.environ, "MMI_STORE_URL": f"sqlite:///{ingested}"}
            subprocess.run([*MMI, "ingest", "--config", str(config)], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    store = work / "store.db"
    shutil.copyfile(ingested, store)
    for stale in (workspace, workspace.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    profile = RESULTS / f"link-{args.people}.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "mmi.cli"] if args.profile else MMI
    env = {**os.environ, "MMI_STORE_URL": f"sqlite:///{store}"}
    started = time.monotonic()
    finished = subprocess.run([*command, "link", "--config", str(config)], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    result = {"people": args.people, "wall_seconds": round(wall, 1), "stages": report["stages"], "load_average": os.getloadavg()[0]}
    print(json.dumps(result, indent=1))
    with (RESULTS / "link_stages.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    if args.profile:
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
