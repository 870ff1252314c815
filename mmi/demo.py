"""`mmi demo`: the flow so far on generated feeds, with nothing to set up.

It generates the four departments' feeds, serves the health feed from a local HTTP server as the department
would, ingests everything into a SQLite store, and writes the exports. (Linkage, publication and the Airflow
runs join the demo as their issues land.)
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from mmi.config import load_settings
from mmi.export import export_quarantine, export_records
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.status import store_status


def run_demo(out: Path, people: int, seed: int = 7) -> None:
    from synthetic import generate_feeds
    from synthetic.health_api import start_health_api

    started = time.monotonic()
    feeds = out / "feeds"
    step(f"generating feeds for {people} people in {feeds}")
    generate_feeds(feeds, people=people, seed=seed, noise=1.0)
    shutil.rmtree(feeds / "var", ignore_errors=True)  # the demo's own store: every demo starts from an empty one
    server, base_url = start_health_api(feeds / "health", port=0)
    step(f"health department API serving at {base_url}/api/v1/persons")
    settings = load_settings(feeds / "mmi.toml")
    assert settings.health is not None
    settings = dataclasses.replace(settings, health=dataclasses.replace(settings.health, base_url=base_url))
    try:
        engine = open_store(settings.store_url)
        for round_number in (1, 2):
            step(f"ingest run {round_number}" + (" (nothing new: changes nothing)" if round_number == 2 else ""))
            for report in ingest(settings, engine):
                print(f"    {report.department:<16} delivered {report.delivered:>7}  new versions {report.new_versions:>7}  "
                      f"unchanged {report.unchanged:>6}  quarantined {report.quarantined:>4}  seen again in quarantine "
                      f"{report.already_quarantined:>3}" + (f"  ERROR {report.error}" if report.error else ""))
    finally:
        server.shutdown()
    exports = out / "exports"
    records = export_records(engine, exports / "records.csv")
    bad = export_quarantine(engine, exports / "quarantine.csv")
    status = store_status(engine)
    step(f"done in {time.monotonic() - started:.1f}s")
    print(f"""
  store:       {settings.store_url}
  records:     {exports / 'records.csv'} ({records} current source records)
  quarantine:  {exports / 'quarantine.csv'} ({bad} rows, each with the reason and where it came from)
  source records per department: {status['source_records']}
  health service events: {sum(status['service_events'].values())}

  next: mmi status --config {feeds / 'mmi.toml'}
""")


def step(message: str) -> None:
    print(f"==> {message}", flush=True)
