"""Review fixtures: generated feeds with twins and namesakes, a model trained on them once, and per test a
linked store on each backend (the index's own fixtures, tests/mmi/index/conftest.py, with more people: at 1,500
the index makes a few real false merges, which is what the queue must find)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from linkage.scoring import TrainedModel
from mmi.config import Settings
from mmi.exchange.subscriptions import Subscription, exchange_settings
from mmi.index import link_index
from mmi.index.model_versions import save_model_version
from mmi.ingest import ingest
from mmi.store.database import open_store
from synthetic import generate_feeds
from tests.mmi.index.conftest import _serving, _settings
from tests.mmi.review.helpers import train_on

PEOPLE = 1500
# Every district: a subscriber that receives every master, so that any master a test decides on is published.
EVERYWHERE = Subscription("everywhere", "statistics", tuple(str(digit) for digit in range(1, 10)), ("name", "current_district"))


@pytest.fixture(scope="module")
def review_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review-feeds")
    generate_feeds(out, people=PEOPLE, seed=7, noise=2.0)  # seed 7: its index holds conflicts, review pairs and a weak cluster
    return out


@pytest.fixture(scope="module")
def review_model(review_feeds: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    return train_on(_settings(review_feeds, tmp_path_factory.mktemp("review-training"), None))


@dataclasses.dataclass
class Linked:
    settings: Settings
    engine: Engine
    feeds: Path

    def ingest(self) -> None:
        with _serving(self.settings) as served:
            reports = ingest(served, self.engine, parallel=False)
        assert all(report.error is None for report in reports)


@pytest.fixture
def linked(review_feeds: Path, review_model: TrainedModel, tmp_path: Path, store_url: str) -> Iterator[Callable[[], Linked]]:
    """`linked()`: this backend's store with the feeds ingested and linked once (the queue refreshed by the run)."""
    copy = tmp_path / "feeds"
    shutil.copytree(review_feeds, copy)
    settings = _settings(copy, tmp_path, store_url)
    exchange = exchange_settings(settings)
    everywhere = {**exchange.subscriptions, "everywhere": EVERYWHERE}
    settings = dataclasses.replace(settings, exchange=dataclasses.replace(exchange, subscriptions=everywhere))
    engine = open_store(settings.store_url)
    save_model_version(engine, review_model, "tests", {"records": "fixture"})

    def make() -> Linked:
        state = Linked(settings, engine, copy)
        state.ingest()
        link_index(settings, engine)
        return state

    yield make
    engine.dispose()
