"""Audit-log benchmark: what the tamper-evident log costs `mmi ingest`, `mmi link` and `mmi publish`, and how long
`mmi audit verify` takes over a log of a million entries; SQLite and PostgreSQL.

    .venv/bin/python -m bench.audit cost [--people 20000] [--repeat 3] [--stores sqlite postgresql]
    .venv/bin/python -m bench.audit verify [--entries 1000000] [--stores sqlite postgresql]

`cost` runs the three commands as child processes on the same generated feeds into a fresh store, with the log
(`mmi`) and without it (`python -m bench.audit_off`: the same code with the log's writer and checkpoints made
no-ops), alternating the two `--repeat` times so that the machine's load falls on both alike, and reports the
median and the fastest wall seconds of each step and their ratios. `verify` writes source versions through the ingest writer (mmi.store.landing, which
appends a leaf per version in the same transaction), copies of generated rows under new keys, until the log holds
`--entries` leaves, then times `mmi audit verify` (every leaf rehashed, the tree rebuilt, every row's digest and
payload checksum recomputed, checkpoints checked). Results go to bench/results/audit.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from bench.feeds import MMI, RESULTS, ROOT, config_for_port, generated_feeds, health_api

POSTGRES = os.environ.get("MMI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("cost", "verify"))
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    feeds = generated_feeds(args.people)
    for store in args.stores:
        result = cost(feeds, store, args.repeat) if args.what == "cost" else verify_million(feeds, store, args.entries)
        result = {"bench": args.what, "people": args.people, "store": store, **result}
        print(json.dumps(result), flush=True)
        with (RESULTS / "audit.jsonl").open("a") as handle:
            handle.write(json.dumps(result) + "\n")


def store_url(store: str, feeds: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{feeds / f'audit-{uuid.uuid4().hex[:8]}.db'}"
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def drop_store(url: str) -> None:
    """The store `store_url` made, gone (a SQLite file, a PostgreSQL schema): each run leaves nothing behind."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    schema = url.rpartition("search_path%3D")[2]
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


VARIANTS = {"without_log": [sys.executable, "-m", "bench.audit_off"], "with_log": MMI}


def cost(feeds: Path, store: str, repeat: int) -> dict[str, Any]:
    runs: dict[str, dict[str, list[float]]] = {variant: {"ingest": [], "link": [], "publish": []} for variant in VARIANTS}
    with health_api(feeds) as port:
        config = config_for_port(feeds, port, "audit-bench.toml")
        for _ in range(repeat):
            for variant, command in VARIANTS.items():
                shutil.rmtree(feeds / "var" / "changesets", ignore_errors=True)
                url = store_url(store, feeds)
                env = {**os.environ, "MMI_STORE_URL": url}
                for step in ("ingest", "link", "publish"):
                    runs[variant][step].append(_timed([*command, step, "--config", str(config)], env))
                drop_store(url)
    medians = {variant: {step: statistics.median(times) for step, times in steps.items()} for variant, steps in runs.items()}
    fastest = {variant: {step: min(times) for step, times in steps.items()} for variant, steps in runs.items()}
    return {
        "repeat": repeat,
        "median_seconds": medians,
        "min_seconds": fastest,
        "runs": runs,
        "ratio": {step: round(medians["with_log"][step] / medians["without_log"][step], 3) for step in medians["with_log"]},
        # on a loaded machine the fastest run is the one least disturbed: the ratio of the minima is the steadier figure
        "ratio_of_minima": {step: round(fastest["with_log"][step] / fastest["without_log"][step], 3) for step in fastest["with_log"]},
        "load": os.getloadavg(),
    }


def _timed(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return round(time.monotonic() - started, 2)


def verify_million(feeds: Path, store: str, entries: int) -> dict[str, Any]:
    from mmi.store.database import open_store
    from mmi.store.landing import BatchWriter, PendingVersion
    from mmi.store.tables import source_record

    url = store_url(store, feeds)
    env = {**os.environ, "MMI_STORE_URL": url}
    with health_api(feeds) as port:
        config = config_for_port(feeds, port, "audit-bench.toml")
        _timed([*MMI, "ingest", "--config", str(config)], env)
    engine = open_store(url)
    provenance = {
        "id",
        "department",
        "source_key",
        "version",
        "is_current",
        "batch_id",
        "location",
        "payload_sha256",
        "payload",
        "ingested_at",
    }
    with engine.connect() as connection:
        template = [dict(row._mapping) for row in connection.execute(select(source_record).limit(20_000))]
        leaves = int(connection.execute(text("SELECT size FROM audit_head")).scalar_one())
    started, copy = time.monotonic(), 0
    while leaves < entries:
        copy += 1
        writer = BatchWriter(engine, "public_security")
        for row in template[: entries - leaves]:
            columns = {name: value for name, value in row.items() if name not in provenance}
            writer.add_version(
                PendingVersion("person", f"{row['source_key']}~{copy}", row["location"], columns, row["payload"], row["payload_sha256"])
            )
        writer.finish()
        leaves += min(len(template), entries - leaves)
    written = time.monotonic() - started
    from mmi.audit.checkpoints import audit_settings, make_checkpoint
    from mmi.config import load_settings

    make_checkpoint(engine, audit_settings(load_settings(config)), "bench")
    engine.dispose()
    started = time.monotonic()
    done = subprocess.run([*MMI, "audit", "verify", "--config", str(config)], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    drop_store(url)
    return {
        "entries": leaves,
        "write_seconds": round(written, 1),
        "verify_seconds": round(seconds, 1),
        "exit": done.returncode,
        "output": (done.stdout + done.stderr).strip().splitlines()[-1:],
    }


if __name__ == "__main__":
    main()
