"""A real, small index for the pages' tests: generated feeds with twins and namesakes, ingested, linked by the
trained model, published to the subscribers, and the review queue refreshed, exactly as `mmi run` leaves it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import Engine

from mmi.config import Settings, load_settings
from mmi.exchange import publish
from mmi.index import link_index
from mmi.ingest import ingest
from mmi.review import refresh_queue
from mmi.store.database import open_store
from synthetic import generate_feeds
from synthetic.health_api import start_health_api

PEOPLE = 300


def build_index(out: Path, store_url: str | None = None, people: int = PEOPLE, seed: int = 11) -> tuple[Settings, Engine]:
    """Feeds for `people` in `out`, ingested into the store at `store_url` (default: a SQLite file in `out`), linked
    (the first run trains the model), published, and the queue refreshed."""
    generate_feeds(out, people=people, seed=seed, noise=2.0)
    loaded = load_settings(out / "mmi.toml")
    settings = dataclasses.replace(loaded, store_url=store_url or loaded.store_url,
                                   linkage=dataclasses.replace(loaded.linkage, workspace=out / "workspace.duckdb"))
    engine = open_store(settings.store_url)
    assert settings.health and settings.human_resources
    server, base_url = start_health_api(out / "health", port=0)
    try:
        serving = dataclasses.replace(settings, health=dataclasses.replace(settings.health, base_url=base_url))
        reports = ingest(serving, engine, parallel=False)
    finally:
        server.shutdown()
    assert all(report.error is None for report in reports), reports
    link_index(settings, engine)
    publish(settings, engine)
    refresh_queue(engine)
    return settings, engine
