"""The whole flow on generated feeds: ingest, link (mmi.index), publish, read; then a delivery and the same again.

Each subscriber of the generated config must receive exactly the outbox events of its jurisdiction, once each,
across both publications, in change sets numbered 1..n.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from devtools.feeds import served_feeds
from mmi.config import Settings
from mmi.exchange import exchange_settings, publish
from mmi.index import link_index
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.index_tables import master_event
from synthetic import generate_delta
from tests.mmi.exchange.readers import published, read_apache_avro, read_fastavro


@pytest.fixture
def flow(tmp_path: Path, store_url: str) -> Iterator[tuple[Settings, Engine, Path]]:
    feeds = tmp_path / "feeds"
    with served_feeds(feeds, people=400, seed=23, noise=1.0) as served:
        loaded = served.settings()
        settings = dataclasses.replace(
            loaded, store_url=store_url, linkage=dataclasses.replace(loaded.linkage, workspace=tmp_path / "workspace.duckdb")
        )
        engine = open_store(store_url)
        yield settings, engine, feeds
    engine.dispose()


def run_once(settings: Settings, engine: Engine) -> None:
    assert all(report.error is None for report in ingest(settings, engine, parallel=False))
    link_index(settings, engine)
    publish(settings, engine)


@pytest.mark.slow
def test_ingest_link_publish_read(flow: tuple[Settings, Engine, Path]) -> None:
    settings, engine, feeds = flow
    run_once(settings, engine)
    generate_delta(feeds, seed=3, fraction=0.05)
    run_once(settings, engine)

    exchange = exchange_settings(settings)
    with engine.connect() as connection:
        outbox = [dict(row._mapping) for row in connection.execute(select(master_event))]
    assert {row["operation"] for row in outbox} >= {"create", "update"}
    for name, subscription in exchange.subscriptions.items():
        files = published(engine, exchange.out_dir, name)
        assert files, f"{name} received nothing"
        assert [row["seq"] for row, _ in files] == list(range(1, len(files) + 1))
        events = [event for _, content in files for event in read_fastavro(content)[1]]
        assert sum(len(read_apache_avro(content)[1]) for _, content in files) == len(events)
        ids = [str(event["event_id"]) for event in events]
        assert len(ids) == len(set(ids))
        assert set(ids) <= {row["event_id"] for row in outbox if _in(row, subscription.jurisdiction)}
        creates = {row["event_id"] for row in outbox if row["operation"] == "create" and _in(row, subscription.jurisdiction)}
        assert creates <= set(ids), f"{name}: creates in its jurisdiction missing"
        for event in events:
            for person in (event["person_before"], event["person_after"]):
                if person:
                    assert {field for field, value in person.items() if value is not None} <= set(subscription.fields)


def _in(row: dict[str, object], prefixes: tuple[str, ...]) -> bool:
    districts = [json.loads(str(golden)).get("current_district") or "" for golden in (row["golden_before"], row["golden_after"]) if golden]
    return any(district.startswith(prefixes) for district in districts)
