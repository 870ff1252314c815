"""Load benchmark: subscribers, stewards and auditors at once against `mmi serve --workers N`, then a flood.

    .venv/bin/python -m bench.load [--store sqlite|postgresql] [--people 1000] [--subscribers 50] [--stewards 5]
                                   [--auditors 3] [--seconds 60] [--workers 2] [--flood-seconds 10]

A small index is built with the real steps (devtools.served.build_index: generated feeds ingested, linked,
published, the review queue refreshed) and served by the real command over loopback. Then, for `--seconds`:

- each of `--subscribers` clients (tokens from `mmi token`'s function, spread over the configured subscriptions)
  lists its change sets from the start, downloads one of them and acknowledges it, again and again;
- each steward and auditor (signed in with a one-time link, a session cookie) reads the review queue's first page
  and then an item's page from it, again and again.

Requests/s, p50 and p99 latency (ms) and errors are reported per kind of request: an error is any answer other
than 2xx (redirects not followed) or a failed connection. Every client waits for its answer before the next
request (a closed loop): the rates are what the server sustains for that many clients, not an offered load.

Then the flood (`--flood-seconds`): one token asks as fast as 16 connections can, another token at 2 requests/s;
the flooder should get 429 with `Retry-After` (per worker: each worker has its own bucket, so up to N times the
budget gets through), the other token 200 throughout. The flood runs against a second server whose budget
(`--flood-rate`, `--flood-burst`) is below what a loaded two-core machine serves, else nothing could exceed it. Figures are printed and appended to
bench/results/load.jsonl with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.feeds import RESULTS
from bench.ingest import POSTGRES
from devtools.served import build_index, mmi_serve, serve_config
from mmi.api import api_settings, ensure_keys, issue_token
from mmi.config import Settings, load_settings
from mmi.exchange.subscriptions import exchange_settings
from mmi.principal import Principal
from mmi.store.database import open_store
from mmi.store.exchange_tables import changeset
from mmi.web.sessions import create_login_code
from mmi.web.settings import web_settings


@dataclasses.dataclass
class Tally:
    latencies: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, dict[int, int]] = dataclasses.field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    retry_after: list[int] = dataclasses.field(default_factory=list)
    failures: dict[str, dict[str, int]] = dataclasses.field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    async def request(self, client: httpx.AsyncClient, kind: str, method: str, url: str) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, url)
        except httpx.HTTPError as error:
            self.errors[kind] += 1
            self.failures[kind][type(error).__name__] += 1
            return None
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        self.statuses[kind][response.status_code] += 1
        if response.status_code == 429 and "retry-after" in response.headers:
            self.retry_after.append(int(response.headers["retry-after"]))
        if not 200 <= response.status_code < 300:
            self.errors[kind] += 1
        return response

    def figures(self, seconds: float) -> dict[str, Any]:
        result = {}
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            result[kind] = {
                "requests": len(values),
                "per_second": round(len(values) / seconds, 1),
                "p50_ms": round(statistics.median(ordered), 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
                "errors": self.errors.get(kind, 0),
                "statuses": dict(sorted(self.statuses[kind].items())) | dict(self.failures.get(kind, {})),
            }
        return result


async def subscriber_loop(base_url: str, token: str, deadline: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while time.monotonic() < deadline:
            listing = await tally.request(client, "subscriber: list", "GET", "/v1/changesets?after=0&limit=100")
            items = listing.json()["items"] if listing is not None and listing.status_code == 200 else []
            if not items:
                continue
            seq = random.choice(items)["seq"]
            await tally.request(client, "subscriber: download", "GET", f"/v1/changesets/{seq}")
            await tally.request(client, "subscriber: acknowledge", "POST", f"/v1/changesets/{seq}/ack")


async def reader_loop(base_url: str, login_url: str, role: str, deadline: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        signed_in = await client.get(login_url)
        assert signed_in.status_code == 303, f"{role} could not sign in: {signed_in.status_code}"
        while time.monotonic() < deadline:
            queue = await tally.request(client, f"{role}: queue page", "GET", "/ui/queue")
            found = re.findall(r'href="(/ui/items/\d+\?[^"]*)"', queue.text) if queue is not None else []
            if found:
                await tally.request(client, f"{role}: item page", "GET", random.choice(found).replace("&amp;", "&"))


async def flood(base_url: str, flooder: str, polite: str, seconds: float) -> dict[str, Any]:
    tally = Tally()
    deadline = time.monotonic() + seconds

    async def hammer() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {flooder}"}, timeout=30) as client:
            while time.monotonic() < deadline:
                await tally.request(client, "flooding token", "GET", "/v1/changesets?limit=1")

    async def politely() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {polite}"}, timeout=30) as client:
            while time.monotonic() < deadline:
                await tally.request(client, "other token (2/s)", "GET", "/v1/changesets?limit=1")
                await asyncio.sleep(0.5)

    await asyncio.gather(*(hammer() for _ in range(16)), politely())
    figures = tally.figures(seconds)
    figures["retry_after_seconds"] = sorted(set(tally.retry_after))
    return figures


def _tokens(settings: Settings, count: int) -> list[str]:
    api = api_settings(settings)
    names = sorted(exchange_settings(settings).subscriptions)
    return [issue_token(api, "subscriber", names[number % len(names)]) for number in range(count)]


def _postgres_url() -> tuple[str, str]:
    schema = f"bench_load_{uuid.uuid4().hex[:8]}"
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False), schema


async def run_load(args: argparse.Namespace, base_url: str, settings: Settings) -> dict[str, Any]:
    web = dataclasses.replace(web_settings(settings), public_url=base_url)
    engine = open_store(settings.store_url)
    with engine.connect() as connection:
        changesets = connection.execute(select(changeset.c.subscriber)).scalars().all()
    logins = [
        (role, f"{base_url}/ui/login?code={create_login_code(engine, web, Principal(f'{role}-{number}', role))}")
        for role, count in (("steward", args.stewards), ("auditor", args.auditors))
        for number in range(count)
    ]
    engine.dispose()
    tally = Tally()
    deadline = time.monotonic() + args.seconds
    started = time.monotonic()
    await asyncio.gather(
        *(subscriber_loop(base_url, token, deadline, tally) for token in _tokens(settings, args.subscribers)),
        *(reader_loop(base_url, url, role, deadline, tally) for role, url in logins),
    )
    return {"changesets": len(changesets), "figures": tally.figures(time.monotonic() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--stewards", type=int, default=5)
    parser.add_argument("--auditors", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flood-seconds", type=float, default=10)
    parser.add_argument("--flood-rate", type=float, default=5.0, help="the flood phase's [api] rate_limit_per_second")
    parser.add_argument("--flood-burst", type=int, default=10, help="the flood phase's [api] rate_limit_burst")
    args = parser.parse_args()
    schema = None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        store_url = None
        if args.store == "postgresql":
            store_url, schema = _postgres_url()
        try:
            print(f"building an index of {args.people} people on {args.store} ...", flush=True)
            built, engine = build_index(Path(folder) / "feeds", store_url, people=args.people)
            engine.dispose()
            config = serve_config(built)
            settings = load_settings(config)
            ensure_keys(api_settings(settings))
            with mmi_serve(config, "--workers", str(args.workers)) as serving:
                print(f"serving on {serving.base_url} with {args.workers} workers; {args.seconds:.0f} s of load ...", flush=True)
                load = asyncio.run(run_load(args, serving.base_url, settings))
            # The flood against a budget below what this machine serves, or the flooder could never exceed it.
            flood_config = serve_config(built, rate_limit_per_second=args.flood_rate, rate_limit_burst=args.flood_burst)
            with mmi_serve(flood_config, "--workers", str(args.workers)) as serving:
                flooder, polite = _tokens(settings, 2)
                print(f"flood: {args.flood_seconds:.0f} s at a budget of {args.flood_rate}/s, burst {args.flood_burst} ...", flush=True)
                flooding = asyncio.run(flood(serving.base_url, flooder, polite, args.flood_seconds))
        finally:
            if schema:
                with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    api = api_settings(settings)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "store": args.store,
        "people": args.people,
        "workers": args.workers,
        "clients": {"subscribers": args.subscribers, "stewards": args.stewards, "auditors": args.auditors},
        "seconds": args.seconds,
        "rate_limit": {"per_second": api.rate_limit_per_second, "burst": api.rate_limit_burst},
        "flood_rate_limit": {"per_second": args.flood_rate, "burst": args.flood_burst},
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        **load,
        "flood": flooding,
    }
    _print(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "load.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")


def _print(result: dict[str, Any]) -> None:
    print(f"\n{result['store']}, {result['workers']} workers, load average {result['load_average']}, {result['changesets']} change sets")
    print(f"{'kind':<28} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  statuses")
    for section in ("figures", "flood"):
        for kind, row in result[section].items():
            if isinstance(row, dict):
                print(
                    f"{kind:<28} {row['requests']:>8} {row['per_second']:>7} {row['p50_ms']:>7} {row['p99_ms']:>7} {row['errors']:>6}  "
                    f"{row['statuses']}"
                )
    print(f"Retry-After seen in the flood: {result['flood']['retry_after_seconds']}")


if __name__ == "__main__":
    main()
