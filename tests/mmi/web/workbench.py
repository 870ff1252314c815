"""A real, small index for the pages' tests: generated feeds with twins and namesakes, ingested, linked by the
trained model (the link run refreshes the queue), published to the subscribers, and the queue refreshed again so
that priorities count the deliveries, exactly as `mmi run` leaves it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import Engine

from devtools.feeds import served_feeds
from mmi.config import Settings, load_settings
from mmi.exchange import publish
from mmi.exchange.subscriptions import Subscription, exchange_settings
from mmi.index import link_index
from mmi.ingest import ingest
from mmi.review import refresh_queue
from mmi.store.database import open_store

PEOPLE = 300
SEED = 12  # its queue holds conflicts, pairs and a cluster
# Every district: a subscriber that receives every master, so that any master decided on is published (four eyes).
EVERYWHERE = Subscription("everywhere", "statistics", tuple(str(digit) for digit in range(1, 10)), ("name", "current_district"))


def build_index(out: Path, store_url: str | None = None, people: int = PEOPLE, seed: int = SEED) -> tuple[Settings, Engine]:
    """Feeds for `people` in `out`, ingested into the store at `store_url` (default: the generated config's SQLite
    file), linked, published, and the queue refreshed."""
    with served_feeds(out, people=people, seed=seed, noise=2.0) as served:
        loaded = load_settings(served.config)
        settings = dataclasses.replace(
            loaded, store_url=store_url or loaded.store_url, linkage=dataclasses.replace(loaded.linkage, workspace=out / "workspace.duckdb")
        )
        engine = open_store(settings.store_url)
        reports = ingest(settings, engine, parallel=False)
    assert all(report.error is None for report in reports), reports
    link_index(settings, engine)
    exchange = exchange_settings(settings)
    settings = dataclasses.replace(
        settings, exchange=dataclasses.replace(exchange, subscriptions={**exchange.subscriptions, "everywhere": EVERYWHERE})
    )
    publish(settings, engine)
    refresh_queue(engine)
    return settings, engine
