"""The index linked on Spark: the same store linked with `backend = "duckdb"` and `backend = "spark"` gives the same
masters and the same accuracy; the same model scores the same pairs on both engines; incremental on Spark equals
full on Spark. One ingest (1,200 generated people, SQLite), copied for each engine; Spark on local[2]."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine

from devtools.feeds import served_feeds
from linkage.inputs import RECORDS
from linkage.scoring import DUCKDB_ENGINE
from linkage.spark import SparkEngine
from mmi.config import Settings
from mmi.index import current_model, link_index
from mmi.index.evaluation import evaluate_index
from mmi.index.inputs import load_person_records
from mmi.ingest import ingest
from mmi.store.database import open_store
from synthetic import generate_delta
from tests.mmi.index.test_link import index_state, members

pytestmark = [pytest.mark.spark, pytest.mark.slow]
PEOPLE = 1200


@dataclasses.dataclass
class Linked:
    settings: Settings
    engine: Engine
    first: Any  # the first run's LinkReport


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The generated feeds and a store holding them ingested (not linked)."""
    folder = tmp_path_factory.mktemp("spark-feeds")
    with served_feeds(folder, people=PEOPLE, seed=23, noise=2.0) as feeds:
        settings = feeds.settings(store_url=f"sqlite:///{folder / 'ingested.db'}")
        engine = open_store(settings.store_url)
        assert all(report.error is None for report in ingest(settings, engine, parallel=False))
        engine.dispose()
    yield folder, folder / "ingested.db"


def _linked(ingested: tuple[Path, Path], backend: str, work: Path) -> Linked:
    """A copy of the ingested store, trained and linked on `backend`."""
    folder, store = ingested
    shutil.copy(store, work / "store.db")
    with served_feeds(folder) as feeds:
        settings = feeds.settings(store_url=f"sqlite:///{work / 'store.db'}")
    linkage = dataclasses.replace(settings.linkage, backend=backend, workspace=work / "workspace.duckdb")
    settings = dataclasses.replace(settings, linkage=linkage)
    engine = open_store(settings.store_url)
    return Linked(settings, engine, link_index(settings, engine))  # no model yet: trained on `backend` first


@pytest.fixture(scope="module")
def on_duckdb(ingested: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Linked:
    return _linked(ingested, "duckdb", tmp_path_factory.mktemp("on-duckdb"))


@pytest.fixture(scope="module")
def on_spark(ingested: tuple[Path, Path], spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Linked:
    return _linked(ingested, "spark", tmp_path_factory.mktemp("on-spark"))


def _together(engine: Engine) -> set[tuple[str, str]]:
    """Every pair of records the index puts in one master."""
    return {pair for group in members(engine).values() for pair in itertools.combinations(sorted(group), 2)}


def test_the_same_store_gives_the_same_masters_and_accuracy_on_both_engines(on_duckdb: Linked, on_spark: Linked) -> None:
    assert on_spark.first.mode == on_duckdb.first.mode == "full"
    models = current_model(on_duckdb.engine), current_model(on_spark.engine)
    assert models[0] and models[1]
    with on_spark.engine.connect() as connection:
        trained_on = connection.exec_driver_sql("SELECT trained_on FROM model_version WHERE is_current").scalar_one()
    assert '"engine": "spark"' in trained_on  # trained on Spark, not borrowed from DuckDB
    duck_pairs, spark_pairs = _together(on_duckdb.engine), _together(on_spark.engine)
    agreement = len(duck_pairs & spark_pairs) / len(duck_pairs | spark_pairs)  # of pairs either engine joins
    assert len(duck_pairs) > PEOPLE and agreement >= 0.999, f"{agreement:.5f}: {len(duck_pairs ^ spark_pairs)} pairs differ"
    assert len(members(on_duckdb.engine)) == pytest.approx(len(members(on_spark.engine)), abs=2)
    truth = on_duckdb.settings.config_path.parent / "truth.csv"  # type: ignore[union-attr]
    duck_accuracy, spark_accuracy = evaluate_index(on_duckdb.engine, truth), evaluate_index(on_spark.engine, truth)
    assert duck_accuracy["f1"] > 0.98
    assert abs(duck_accuracy["f1"] - spark_accuracy["f1"]) <= 0.001, (duck_accuracy, spark_accuracy)


def test_one_model_scores_the_same_pairs_on_both_engines(on_duckdb: Linked, spark: Any, spark_work_dir: Path) -> None:
    """DuckDB's model, frozen term frequencies and all, scoring the same records on Spark: every pair, every score."""
    version = current_model(on_duckdb.engine)
    assert version
    duck = duckdb.connect()
    load_person_records(on_duckdb.engine, duck, RECORDS)
    review = on_duckdb.settings.linkage.review_threshold
    on_duck = DUCKDB_ENGINE.score_within(duck, RECORDS, version.model, review, "pairs_duckdb")
    on_spark = SparkEngine(spark, spark_work_dir / "exchange").score_within(duck, RECORDS, version.model, review, "pairs_spark")
    assert on_duck == on_spark > PEOPLE
    [(differing, worst)] = duck.execute("""
        SELECT count(*) FILTER (WHERE s.left_key IS NULL OR d.left_key IS NULL), max(abs(d.match_weight - s.match_weight))
        FROM pairs_duckdb d FULL JOIN pairs_spark s USING (left_key, right_key)
    """).fetchall()
    assert differing == 0 and worst < 1e-9


def test_incremental_on_spark_equals_full_on_spark(on_spark: Linked, on_duckdb: Linked) -> None:
    on_duckdb.engine.dispose()  # done with: the delta below changes the feeds both were ingested from
    folder = on_spark.settings.config_path.parent  # type: ignore[union-attr]
    generate_delta(folder, seed=5, fraction=0.05)
    with served_feeds(folder) as feeds:
        served = on_spark.settings.with_source("health", feeds.settings().sources["health"])
        assert all(report.error is None for report in ingest(served, on_spark.engine, parallel=False))
    incremental = link_index(on_spark.settings, on_spark.engine)
    assert incremental.mode == "incremental" and incremental.records_changed > 0 and incremental.events
    after_incremental = index_state(on_spark.engine)
    full = link_index(on_spark.settings, on_spark.engine, full=True)
    assert full.mode == "full" and not full.events, full.events
    assert index_state(on_spark.engine) == after_incremental
