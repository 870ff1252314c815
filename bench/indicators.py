"""Benchmark: every indicator at every level over about a million source records, and one worklist.

The store: the generated feeds for `--people` (20,000 by default) ingested, trained and linked once (cached under
bench/results/feeds-N/index.db), then copied `--copies` times into one SQLite store with every key suffixed
(records, services, masters, links, scored pairs), so that the store holds ~1 million source records of the same
shape without generating and linking 300,000 people on this machine. The copy is made once and kept.

    python -m bench.indicators [--people 20000] [--copies 22] [--as-of 2026-10-31]

prints the store's size, the time of `compute_indicators` at every level and of `compute_worklist` for
child_vaccination in one city, and appends them to bench/results/indicators.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.feeds import MMI, RESULTS, ROOT, generated_feeds, ingest_into
from mmi.indicators import compute_indicators, compute_worklist
from mmi.store.database import open_store, refresh_statistics

COPIED = {  # table → the columns whose values get the copy's suffix
    "source_record": ("source_key",),
    "service_event": ("source_key", "person_key"),
    "master_record": ("master_id", "successor_id"),
    "master_xref": ("source_key", "master_id"),
    "match_pair": ("left_key", "right_key"),
}


# Wide columns nothing the indicators read, emptied in the copies (the originals keep them) to keep the file small.
BLANKED = {"payload": "'{}'", "name_pinyin": "NULL", "hukou_address": "NULL", "employer": "NULL", "lineage": "'{}'"}


def linked_store(people: int) -> Path:
    """The feeds for `people`, ingested, trained and linked into their own SQLite store (once)."""
    feeds = generated_feeds(people)
    store = feeds / "index.db"
    if not store.exists():
        url = f"sqlite:///{store}"
        ingest_into(feeds, url)
        env = {"MMI_STORE_URL": url}
        for step in (["train"], ["link", "--full"]):
            subprocess.run(
                [*MMI, *step, "--config", str(feeds / "mmi.toml")],
                check=True,
                cwd=ROOT,
                env={**_environ(), **env},
                stdout=subprocess.DEVNULL,
            )
    return store


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def scaled_store(people: int, copies: int) -> Path:
    """The linked store copied `copies` times into one (kept under bench/results/)."""
    target = RESULTS / f"indicators-{people}x{copies}.db"
    if target.exists():
        return target
    source = linked_store(people)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    partial.write_bytes(source.read_bytes())
    with sqlite3.connect(partial) as db:
        db.execute("PRAGMA journal_mode = OFF")  # a scratch copy: no journal, no fsync
        db.execute("PRAGMA synchronous = OFF")
        for table, suffixed in COPIED.items():
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            db.execute(f"CREATE TEMP TABLE original_{table} AS SELECT * FROM {table}")
            for copy in range(1, copies):
                values = [f"{c} || '~{copy}'" if c in suffixed else BLANKED.get(c, c) for c in columns if c != "id"]
                names = [c for c in columns if c != "id"]
                db.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM original_{table}")
        db.commit()
    partial.rename(target)
    # Migrated to the newest schema, with the planner's statistics of the copies (as a link run leaves them).
    refresh_statistics(open_store(f"sqlite:///{target}"))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--copies", type=int, default=22)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    parser.add_argument("--city", default="4403")
    args = parser.parse_args()
    store = scaled_store(args.people, args.copies)
    with sqlite3.connect(store) as db:
        size = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COPIED}
    engine = open_store(f"sqlite:///{store}")
    started = time.monotonic()
    rows = compute_indicators(engine, as_of=args.as_of)
    indicators_seconds = time.monotonic() - started
    started = time.monotonic()
    worklist = compute_worklist(engine, indicator_id="child_vaccination", as_of=args.as_of, area_prefix=args.city)
    worklist_seconds = time.monotonic() - started
    result = {
        "store": store.name,
        "rows_in_store": size,
        "indicator_rows": len(rows),
        "indicators_seconds": round(indicators_seconds, 2),
        "worklist_rows": len(worklist),
        "worklist_seconds": round(worklist_seconds, 2),
        "city": args.city,
    }
    print(json.dumps(result, indent=2))
    with open(RESULTS / "indicators.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    print(
        f"indicators: {size['source_record']:,} source records, {len(rows)} rows in {indicators_seconds:.1f} s; "
        f"worklist: {len(worklist)} persons in {worklist_seconds:.2f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
