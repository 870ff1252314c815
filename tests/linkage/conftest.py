"""Linkage fixtures: generated feeds, ingested into a store, loaded as the linkage input table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from devtools.feeds import served_feeds
from mmi.index.inputs import load_person_records
from mmi.ingest import ingest
from mmi.store.database import open_store


@pytest.fixture(scope="module")
def linked_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """Feeds for 1,500 people at three times the realistic error rate, ingested, loaded for linkage."""
    out = tmp_path_factory.mktemp("blocking")
    with served_feeds(out, people=1500, seed=21, noise=3.0) as feeds:
        settings = feeds.settings()
        engine = open_store(settings.store_url)
        assert all(report.error is None for report in ingest(settings, engine))
    duck = duckdb.connect()
    load_person_records(engine, duck)
    yield duck, out
