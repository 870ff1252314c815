"""Exchange benchmark: outbox events per second into change sets, and the API's download throughput.

    .venv/bin/python -m bench.publish [--events 200000] [--stores sqlite postgresql] [--workers 1 2] [--profile]

For each store it writes an outbox of `--events` events once, shaped like linkage's (golden records of 15 fields
before and after, lineage as golden.py writes it, record keys; 70% creates, 25% updates, 3% merges, 2% retires;
people living in the generator's destination cities), and for each scenario and `[exchange] workers` value times
`publish()` over a fresh copy of it:

- departments: the generated config's three subscribers (Zhengzhou health, Guangdong public security, Shanghai
  human resources), which between them see about a quarter of the events;
- with-national: the same and a national statistics subscriber that sees every province, so every event is
  projected and encoded at least once.

Then it starts `mmi serve` in its own process and downloads every change set of the national subscriber with one
keep-alive HTTP client, as a department would. Wall time, events per second and the CPU seconds of the publisher
and its workers are printed and appended to bench/results/publish.jsonl, with the machine's load: on a shared
machine the wall-clock rate falls with the load, the CPU time much less. `--profile` runs each publication under
cProfile and prints where its time went (the functions with the most time of their own) to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.feeds import MMI, RESULTS, ROOT, _free_port, _wait_for
from bench.ingest import POSTGRES, store_url
from mmi.config import load_settings
from mmi.exchange import publish
from mmi.index.golden import RULES
from mmi.store.database import open_store
from mmi.store.index_tables import linkage_run, master_event, model_version
from schemas.lineage import compact_lineage
from synthetic.generate import MMI_TOML
from synthetic.places import places

PROVINCES = sorted({city[:2] for city in places().cities})
NATIONAL = f"""
[subscribers.national-statistics]
department = "statistics"
jurisdiction = {json.dumps(PROVINCES)}
fields = ["name", "birth_date", "sex", "hukou_region", "current_district", "residence_start"]
"""


SCENARIOS = {"departments": "", "with-national": NATIONAL}  # the generated config's three subscribers; and a fourth seeing everyone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="[exchange] workers values to try")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of each publication (slows it)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for store in args.stores:
        template = outbox_template(store, args.events)
        for scenario, extra in SCENARIOS.items():
            for workers in args.workers:
                config = fresh_config(store, template, extra, workers)
                result = {"store": store, "scenario": scenario, "workers": workers, **run_publish(config, args.events, args.profile)}
                if scenario == "with-national" and workers == args.workers[-1]:
                    result |= run_downloads(config)
                discard(load_settings(config).store_url, config.parent)
                print(json.dumps(result), flush=True)
                with (RESULTS / "publish.jsonl").open("a") as handle:
                    handle.write(json.dumps(result) + "\n")
        discard(template, None)


def discard(url: str, folder: Path | None) -> None:
    """Remove a measured store (about 1 GB a copy at 200,000 events) and its change sets; results stay in publish.jsonl."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for path in Path(str(parsed.database)).parent.glob(Path(str(parsed.database)).name + "*"):
            if path.is_dir():  # the store's side folder of step locks (mmi.store.locks)
                shutil.rmtree(path)
            else:
                path.unlink()
    else:
        schema = str(parsed.query["options"]).split("=", 1)[1]
        with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def outbox_template(store: str, events: int) -> str:
    """A store holding an outbox of `events` events, written once per run and copied for each measurement."""
    url = store_url(store, RESULTS)
    engine = open_store(url)
    started = time.monotonic()
    write_outbox(engine, events, random.Random(4))
    print(f"wrote {events} outbox events in {time.monotonic() - started:.0f}s", file=sys.stderr)
    engine.dispose()
    return url


def fresh_config(store: str, template: str, extra: str, workers: int) -> Path:
    """A config of its own, over a copy of the template's outbox, with `workers` and the scenario's subscribers."""
    folder = RESULTS / f"publish-{store}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    url = store_url(store, folder)
    engine = open_store(url)
    if store == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ATTACH DATABASE '{make_url(template).database}' AS template")
            for table in ("model_version", "linkage_run", "master_event"):
                connection.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM template.{table}")
    else:
        source = str(make_url(template).query["options"]).split("=", 1)[1]
        with engine.begin() as connection:
            for table in ("model_version", "linkage_run", "master_event"):
                connection.exec_driver_sql(f'INSERT INTO {table} SELECT * FROM "{source}".{table}')
    engine.dispose()
    config = folder / "mmi.toml"
    text = MMI_TOML.replace('url = "sqlite:///var/mmi.db"', f"url = {json.dumps(url)}", 1).replace(
        "[exchange]\n", f"[exchange]\nworkers = {workers}\n"
    )
    config.write_text(text + extra, encoding="utf-8")
    return config


def run_publish(config: Path, events: int, profile: bool = False) -> dict[str, Any]:
    settings = load_settings(config)
    engine = open_store(settings.store_url)
    profiler = cProfile.Profile() if profile else None
    cpu_before = _cpu_seconds()
    started = time.monotonic()
    if profiler is not None:
        profiler.enable()
    report = publish(settings, engine)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    seconds = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    engine.dispose()
    assert report.events_read == events, report
    return {
        "events": events,
        "publish_seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "cpu_seconds": round(cpu, 2),  # this process and its workers: the rate on an otherwise idle machine is about events / cpu
        "deliveries": report.deliveries,
        "deliveries_per_second": round(report.deliveries / seconds),
        "changesets": sum(len(made) for made in report.changesets.values()),
        "machine_load_1min": round(os.getloadavg()[0], 1),
    }


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_downloads(config: Path) -> dict[str, Any]:
    token = subprocess.run(
        [*MMI, "token", "--config", str(config), "--role", "subscriber", "--subject", "national-statistics"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]  # makes the keys too
    port = _free_port()
    server = subprocess.Popen([*MMI, "serve", "--config", str(config), "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        _wait_for(port)
        return download_all(f"http://127.0.0.1:{port}", token)
    finally:
        server.terminate()
        server.wait()


def download_all(base_url: str, token: str) -> dict[str, Any]:
    files = size = events = 0
    started = time.monotonic()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        after = 0
        while items := http.get("/v1/changesets", params={"after": after, "limit": 1000}).json()["items"]:
            for item in items:
                response = http.get(item["href"])
                response.raise_for_status()
                files, size, events = files + 1, size + len(response.content), events + item["events"]
                after = item["seq"]
    seconds = time.monotonic() - started
    return {
        "download_files": files,
        "download_mib": round(size / 2**20, 1),
        "download_seconds": round(seconds, 2),
        "download_mib_per_second": round(size / 2**20 / seconds, 1),
        "download_events_per_second": round(events / seconds),
    }


def write_outbox(engine: Engine, count: int, rng: random.Random) -> None:
    now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    with engine.begin() as connection:
        model = connection.execute(
            insert(model_version).values(
                sha256=uuid.uuid4().hex,
                settings="{}",
                term_frequencies="{}",
                trained_at=now,
                trained_by="bench",
                trained_on="{}",
                is_current=True,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        run = connection.execute(
            insert(linkage_run).values(
                model_version_id=model, mode="full", status="done", started_at=now, match_threshold=0.999, review_threshold=0.5
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    people: dict[str, dict[str, Any]] = {}
    recent: list[str] = []  # masters an update, merge or retire may pick
    for start in range(0, count, 10_000):
        rows = [_event(rng, people, recent, number, run, model, now) for number in range(start, min(count, start + 10_000))]
        with engine.begin() as connection:
            connection.execute(insert(master_event), rows)


def _event(
    rng: random.Random, people: dict[str, dict[str, Any]], recent: list[str], number: int, run: int, model: int, now: dt.datetime
) -> dict[str, Any]:
    roll = rng.random()
    master_id = f"M{number:09d}" if roll < 0.7 or len(recent) < 100 else rng.choice(recent[-5000:])
    if master_id not in people:
        recent.append(master_id)
    before = people.get(master_id)
    operation = "create" if before is None else "update" if roll < 0.95 else "merge" if roll < 0.98 else "retire"
    after = None if operation == "retire" else _golden(rng) if before is None else _changed(rng, before)
    if after is None:
        people.pop(master_id)
    else:
        people[master_id] = after
    records = [f"public_security|GA{number:09d}", f"health|JK{number:09d}", f"human_resources|RS{number:09d}"]
    changed = [field for field in (after or before or {}) if (before or {}).get(field) != (after or {}).get(field)]
    lineage = _lineage(rng, records, number) if after else "{}"
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "run_id": run,
        "model_version_id": model,
        "operation": operation,
        "master_id": master_id,
        "related": json.dumps([f"M{rng.randrange(number + 1):09d}"] if operation in ("merge", "retire") else []),
        "records_before": json.dumps(records if before else []),
        "records_after": json.dumps(records if after else []),
        "golden_before": json.dumps(before, ensure_ascii=False) if before else None,
        "golden_after": json.dumps(after, ensure_ascii=False) if after else None,
        "changed_fields": json.dumps(changed),
        "lineage": lineage,
        "occurred_at": now + dt.timedelta(seconds=number),
    }


def _lineage(rng: random.Random, records: list[str], number: int) -> str:
    """As linkage writes it (schemas.lineage, format 2): per survivorship rule, the record of one department
    (usually the most trusted)."""
    lineage: dict[str, tuple[str, str, int, int] | None] = {}
    for rule in RULES:
        department, key = rng.choice(records).split("|") if rng.random() < 0.3 else records[0].split("|")
        source = (department, key, rng.randint(1, 3), number * 3 + 1)
        lineage |= {name: source for name in rule.fields}
    return compact_lineage(lineage)


def _golden(rng: random.Random) -> dict[str, Any]:
    where = places()
    district = where.district(rng, rng.choices(where.cities, cum_weights=where.city_cum)[0])
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
    return {
        "name": rng.choice("张王李赵刘陈杨黄周吴") + rng.choice("伟芳娜敏静丽强磊军洋") + rng.choice(["", "华", "明", "玲"]),
        "name_pinyin": "zhang wei",
        "id_number": f"{where.hukou(rng)}{birth:%Y%m%d}{rng.randrange(1000):03d}X",
        "birth_date": birth.isoformat(),
        "sex": rng.choice("12"),
        "ethnicity": "01",
        "phone": f"13{rng.randrange(10**9):09d}",
        "hukou_region": where.hukou(rng),
        "current_district": district,
        "current_address": f"人民路{rng.randrange(1, 999)}号",
        "residence_start": (dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(4000))).isoformat(),
        "permit_number": f"P{rng.randrange(10**8):08d}",
        "employer": "宏远建工有限公司",
        "insurance_status": "paid",
        "health_record_no": f"JK{rng.randrange(10**8):08d}",
    }


def _changed(rng: random.Random, before: dict[str, Any]) -> dict[str, Any]:
    fresh = _golden(rng)
    fields = rng.sample(["current_district", "current_address", "phone", "employer", "residence_start", "name"], k=2)
    return before | {field: fresh[field] for field in fields}


if __name__ == "__main__":
    main()
