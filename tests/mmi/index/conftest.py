"""Index fixtures: generated feeds and a model trained on them once, and per test a store on each backend."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine

from devtools.feeds import served_feeds
from linkage.inputs import RECORDS
from linkage.scoring import TrainedModel, train_model
from mmi.config import Settings, load_settings
from mmi.index.inputs import load_person_records
from mmi.index.model_versions import save_model_version
from mmi.ingest import ingest
from mmi.store.database import open_store
from synthetic import generate_delta, generate_feeds

PEOPLE = 700


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index-feeds")
    generate_feeds(out, people=PEOPLE, seed=17, noise=2.0)
    return out


@pytest.fixture(scope="module")
def model(feeds: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """Trained once per module (on a SQLite copy), then stored into each test's store as its model version."""
    settings = _settings(feeds, tmp_path_factory.mktemp("training"), None)
    with _serving(settings) as served:
        engine = open_store(served.store_url)
        ingest(served, engine, parallel=False)
    duck = duckdb.connect()
    load_person_records(engine, duck, RECORDS)
    return train_model(duck, RECORDS)


@pytest.fixture
def index(feeds: Path, model: TrainedModel, tmp_path: Path, store_url: str) -> Iterator[Callable[..., tuple[Settings, Engine]]]:
    """`index(delta=False, only=None)`: a store on this backend holding the feeds ingested (after a delta, if
    asked; `only` that department's), with the module's model as its current version. Each test gets its own copy
    of the feeds and workspace."""
    copy = tmp_path / "feeds"
    shutil.copytree(feeds, copy)
    settings = _settings(copy, tmp_path, store_url)
    engine = open_store(settings.store_url)
    save_model_version(engine, model, "tests", {"records": "fixture"})

    def ingested(delta: bool = False, seed: int = 4, only: str | None = None) -> tuple[Settings, Engine]:
        if delta:
            generate_delta(copy, seed=seed, fraction=0.05)
        with _serving(settings) as served:
            reports = ingest(served, engine, parallel=False, only=only)
        assert all(report.error is None for report in reports)
        return settings, engine

    yield ingested
    engine.dispose()


def _settings(feeds: Path, work: Path, store_url: str | None) -> Settings:
    loaded = load_settings(feeds / "mmi.toml")
    linkage = dataclasses.replace(loaded.linkage, workspace=work / "workspace.duckdb")
    return dataclasses.replace(loaded, store_url=store_url or f"sqlite:///{work / 'store.db'}", linkage=linkage)


@contextlib.contextmanager
def _serving(settings: Settings) -> Iterator[Settings]:
    """The feeds' health API on a free port, and `settings` pointing at it."""
    assert settings.config_path
    with served_feeds(settings.config_path.parent) as served:
        yield settings.with_source("health", served.settings().sources["health"])
