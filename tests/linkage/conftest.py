"""Linkage fixtures: generated feeds, ingested into a store, loaded as the linkage input table."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from mmi.config import load_settings
from mmi.index.inputs import load_person_records
from mmi.ingest import ingest
from mmi.store.database import open_store
from synthetic import generate_feeds
from synthetic.health_api import start_health_api


@pytest.fixture(scope="module")
def linked_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """Feeds for 1,500 people at three times the realistic error rate, ingested, loaded for linkage."""
    out = tmp_path_factory.mktemp("blocking")
    generate_feeds(out, people=1500, seed=21, noise=3.0)
    server, base_url = start_health_api(out / "health", port=0)
    try:
        settings = load_settings(out / "mmi.toml")
        settings = settings.with_source("health", dataclasses.replace(settings.sources["health"], base_url=base_url))
        engine = open_store(settings.store_url)
        assert all(report.error is None for report in ingest(settings, engine))
    finally:
        server.shutdown()
    duck = duckdb.connect()
    load_person_records(engine, duck)
    yield duck, out
