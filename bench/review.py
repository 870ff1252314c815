"""Review benchmark: paging a queue of 100,000 items and opening an item, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.review [--people 3000] [--items 100000] [--stores sqlite postgresql] [--repeat 20]

For each store: the generated feeds are ingested and linked with the real commands (`mmi ingest`, `mmi link`,
which refreshes the queue), then the queue is filled up to `--items` open items with pairs of real current
records (random pairs, the queue's mix of kinds, priorities spread like harm x uncertainty), each with its
records' departments and districts, so that item pages load real records and Splink explains real pairs.

Then each operation is timed `--repeat` times, two ways: the service call the route makes (mmi.review, what
the server spends apart from HTTP), and the whole request over HTTP to the application served by uvicorn on
a free port. Operations: the first page and a deep page (offset 50,000) of 50 items, filtered by kind, by
district and by department, and for a steward with a jurisdiction; an item page whose explanation the refresh
kept (as `mmi link`'s refresh does for every new pair: timed here over the seeded items), one whose explanation
was not kept (Splink scores the pair then), and a cluster's page. Median and 95th percentile
in milliseconds are printed and appended to bench/results/review.jsonl with the machine's load.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import os
import random
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, create_engine, func, select, text

from bench.feeds import MMI, RESULTS, ROOT, _free_port, config_for_port, generated_feeds, health_api, ingest_into
from bench.ingest import POSTGRES, store_url
from mmi.api import api_settings, create_app, ensure_keys, issue_token
from mmi.config import load_settings
from mmi.principal import Principal
from mmi.review import QueueFilters, item_detail, queue_page
from mmi.review.refresh import explain_pending, summary
from mmi.store.database import open_store
from mmi.store.index_tables import master_xref
from mmi.store.landing import bulk_insert
from mmi.store.review_tables import review_explanation, review_item, review_item_record
from mmi.store.tables import source_record

STEWARD = Principal("bench-steward", "steward")
KINDS = [("pair", 0.7), ("cluster", 0.2), ("conflict", 0.07), ("invalidated", 0.03)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    feeds = generated_feeds(args.people, noise=2.0)
    RESULTS.mkdir(exist_ok=True)
    for store in args.stores:
        url = store_url(store, feeds)
        result = {
            "store": store,
            "people": args.people,
            "items": args.items,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "load": os.getloadavg(),
            **run(feeds, url, args.items, args.repeat),
        }
        print(json.dumps(result, indent=1))
        with (RESULTS / "review.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(result) + "\n")
        discard(url)


def run(feeds: Path, url: str, items: int, repeat: int) -> dict[str, Any]:
    ingest_into(feeds, url)
    with health_api(feeds) as port:
        config = config_for_port(feeds, port)
        subprocess.run(
            [*MMI, "link", "--config", str(config)],
            check=True,
            cwd=ROOT,
            env={**os.environ, "MMI_STORE_URL": url},
            stdout=subprocess.DEVNULL,
        )
    engine = open_store(url)
    seeded = seed_queue(engine, items, random.Random(7))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # what autovacuum (PostgreSQL) would have done after a bulk insert
    started = time.perf_counter()
    explained = explain_pending(engine)  # what the refresh at the end of `mmi link` does for new items
    explaining = {"items": explained, "seconds": round(time.perf_counter() - started, 1)}
    settings = dataclasses.replace(load_settings(config), store_url=url)
    try:
        return {
            "seeded": seeded,
            "explained": explaining,
            "service_ms": time_service(engine, repeat),
            "http_ms": time_http(settings, engine, repeat),
        }
    finally:
        engine.dispose()


def seed_queue(engine: Engine, target: int, rng: random.Random) -> int:
    """Open items up to `target`: pairs of real current records (clusters: a real master and its records), with
    the departments and districts of their records."""
    with engine.connect() as connection:
        have = connection.execute(select(func.count()).select_from(review_item).where(review_item.c.status == "open")).scalar_one()
        districts = {
            f"{d}|{k}": district
            for d, k, district in connection.execute(
                select(source_record.c.department, source_record.c.source_key, source_record.c.current_district).where(
                    source_record.c.is_current.is_(True)
                )
            )
        }
        master_of = {
            f"{d}|{k}": m
            for d, k, m in connection.execute(select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id))
        }
        model = connection.execute(text("SELECT id FROM model_version WHERE is_current")).scalar()
    members: dict[str, list[str]] = {}
    for key, master in sorted(master_of.items()):
        members.setdefault(master, []).append(key)
    keys, now, batch = sorted(districts), dt.datetime.now(dt.UTC), f"bench-{uuid.uuid4().hex[:8]}"
    items, places = [], []
    for number in range(target - have):
        kind = rng.choices([kind for kind, _ in KINDS], [weight for _, weight in KINDS])[0]
        pair = sorted(rng.sample(keys, 2))
        master = master_of.get(pair[0]) if kind == "cluster" else None
        records = members[master] if master else pair
        items.append(
            {
                "item_key": f"{batch}:{number}",
                "kind": kind,
                "status": "open",
                "left_key": None if master else pair[0],
                "right_key": None if master else pair[1],
                "master_id": master,
                "records": json.dumps(records),
                "masters": json.dumps([master] if master else []),
                "match_probability": rng.uniform(0.5, 0.999),
                "match_weight": 0.0,
                "model_version_id": model,
                "band": "middle",
                "priority": round(rng.lognormvariate(0, 1), 6),
                "reason": "benchmark item",
                "factors": "[]",
                "opened_at": now,
                "refreshed_at": now,
            }
        )
        places.append([(key, key.partition("|")[0], districts.get(key)) for key in records])
        items[-1].update(summary(places[-1]))
    with engine.begin() as connection:
        for start in range(0, len(items), 20_000):
            bulk_insert(connection, review_item, items[start : start + 20_000])
        ids = dict(
            connection.execute(select(review_item.c.item_key, review_item.c.id).where(review_item.c.item_key.like(f"{batch}:%"))).all()
        )
        rows = [
            {"item_id": ids[item["item_key"]], "record_key": key, "department": department, "district": district}
            for item, place in zip(items, places, strict=True)
            for key, department, district in place
        ]
        for start in range(0, len(rows), 50_000):
            bulk_insert(connection, review_item_record, rows[start : start + 50_000])
    return len(items)


def _timed(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median": round(statistics.median(times), 1),
        "p95": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "max": round(times[-1], 1),
    }


def _operations(engine: Engine) -> dict[str, tuple[str, dict[str, Any], Principal]]:
    """name → (path, query, principal): what the benchmark asks for, the same in-process and over HTTP."""
    with engine.connect() as connection:
        district = connection.execute(select(review_item_record.c.district).limit(1)).scalar_one()
    return {
        "queue first page": ("/v1/review/queue", {"limit": 50}, STEWARD),
        "queue offset 50000": ("/v1/review/queue", {"limit": 50, "offset": 50_000}, STEWARD),
        "queue kind=cluster": ("/v1/review/queue", {"limit": 50, "kind": "cluster"}, STEWARD),
        f"queue district={district[:4]}": ("/v1/review/queue", {"limit": 50, "district": district[:4]}, STEWARD),
        "queue department=health": ("/v1/review/queue", {"limit": 50, "department": "health"}, STEWARD),
        f"queue jurisdiction {district[:2]}": ("/v1/review/queue", {"limit": 50}, Principal("local", "steward", (district[:2],))),
    }


def _items(engine: Engine, count: int, offset: int, *, forget: bool = False) -> list[int]:
    """Pair items spread through the queue; with `forget`, their kept explanations dropped (an item the refresh
    did not explain), so that opening them makes Splink score the pair."""
    with engine.begin() as connection:
        ids = list(
            connection.execute(
                select(review_item.c.id)
                .where(review_item.c.status == "open", review_item.c.left_key.is_not(None))
                .order_by(review_item.c.id)
                .offset(offset)
                .limit(count)
            ).scalars()
        )
        if forget:
            connection.execute(review_explanation.delete().where(review_explanation.c.item_id.in_(ids)))
    return ids


def _cluster(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(select(review_item.c.id).where(review_item.c.master_id.is_not(None)).limit(1)).scalar()


def time_service(engine: Engine, repeat: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, (_path, query, principal) in _operations(engine).items():
        filters = QueueFilters(**{key: value for key, value in query.items() if key not in ("limit", "offset")})

        def page(principal: Principal = principal, filters: QueueFilters = filters, query: dict[str, Any] = query) -> None:
            queue_page(engine, principal, filters, limit=query["limit"], offset=query.get("offset", 0))

        results[name] = _timed(page, repeat)
    kept = iter(_items(engine, repeat, 3000))
    results["item (explanation kept by the refresh)"] = _timed(lambda: item_detail(engine, STEWARD, next(kept)), repeat)
    fresh = iter(_items(engine, repeat, 100, forget=True))
    results["item not explained yet (Splink scores it)"] = _timed(lambda: item_detail(engine, STEWARD, next(fresh)), repeat)
    if (cluster := _cluster(engine)) is not None:
        results["cluster item"] = _timed(lambda: item_detail(engine, STEWARD, cluster), repeat)
    return results


@contextmanager
def _server(settings: Any, engine: Engine) -> Iterator[str]:
    ensure_keys(api_settings(settings))
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def time_http(settings: Any, engine: Engine, repeat: int) -> dict[str, dict[str, float]]:
    api = api_settings(settings)
    results = {}
    with _server(settings, engine) as base, httpx.Client(base_url=base, timeout=60) as client:
        tokens: dict[Principal, str] = {}

        def get(path: str, query: dict[str, Any], principal: Principal) -> None:
            if principal not in tokens:  # made once: signing is the client's cost, not the server's
                tokens[principal] = issue_token(api, principal.role, principal.subject, jurisdiction=principal.jurisdiction)
            client.get(path, params=query, headers={"Authorization": f"Bearer {tokens[principal]}"}).raise_for_status()

        for name, operation in _operations(engine).items():
            results[name] = _timed(functools.partial(get, *operation), repeat)
        kept = iter(_items(engine, repeat, 4000))
        results["item (explanation kept by the refresh)"] = _timed(lambda: get(f"/v1/review/items/{next(kept)}", {}, STEWARD), repeat)
        fresh = iter(_items(engine, repeat, 1000, forget=True))
        results["item not explained yet (Splink scores it)"] = _timed(lambda: get(f"/v1/review/items/{next(fresh)}", {}, STEWARD), repeat)
        if (cluster := _cluster(engine)) is not None:
            results["cluster item"] = _timed(lambda: get(f"/v1/review/items/{cluster}", {}, STEWARD), repeat)
    return results


def discard(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    schema = url.rsplit("%3D", 1)[-1]
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
