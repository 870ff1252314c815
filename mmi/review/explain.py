"""Why a pair scored as it did: Splink's own waterfall for the pair, under the model version that scored it.

The pair's two current records are loaded exactly as linkage loads them (linkage.inputs), scored by Splink's
`score_pair` with the model version's settings and frozen term frequencies (linkage.scoring), and Splink's
waterfall data (`splink.internals.waterfall_chart.records_to_waterfall_data`, what its waterfall chart draws) is
read off: the prior, each comparison's level and log2 Bayes factor with the term-frequency adjustment apart, and
the final match weight. Nothing is recomputed here, so the numbers are Splink's, and they add up because Splink's
match weight is that sum.

A Linker costs tens of milliseconds to build; one is kept per model version (with its term-frequency lookup) in
a private in-memory DuckDB database, and calls take turns on it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker
from splink.internals.waterfall_chart import records_to_waterfall_data
from sqlalchemy import Engine, select

from linkage.inputs import load_person_records
from linkage.scoring import TrainedModel, scoring_linker
from mmi.review.errors import NotFound
from mmi.review.models import ComparisonWeight, Explanation
from mmi.store.index_tables import model_version

PAIR = "review_pair_records"
_lock = threading.Lock()
_linkers: dict[tuple[str, int], tuple[duckdb.DuckDBPyConnection, DuckDBAPI, Linker]] = {}


def explain_pair(engine: Engine, left_key: str, right_key: str, model_version_id: int | None = None) -> Explanation:
    """The waterfall of the pair's current records under the model version (default: the current one)."""
    version_id, model = _model(engine, model_version_id)
    with _lock:
        duck, db_api, linker = _linker(engine, version_id, model)
        found = load_person_records(engine, duck, PAIR, keys=[left_key, right_key])
        if found != 2:
            raise NotFound(f"the pair {left_key} / {right_key} has {found} current person records, not 2: was one withdrawn?")
        record = _score(duck, db_api, linker, left_key, right_key)
        waterfall = records_to_waterfall_data([record], linker._settings_obj, hide_details=False)
    return _explanation(waterfall, record, version_id, left_key, right_key)


def _model(engine: Engine, model_version_id: int | None) -> tuple[int, TrainedModel]:
    query = select(model_version.c.id, model_version.c.settings, model_version.c.term_frequencies)
    query = query.where(model_version.c.id == model_version_id) if model_version_id else query.where(model_version.c.is_current.is_(True))
    with engine.connect() as connection:
        row = connection.execute(query).one_or_none()
    if row is None:
        raise NotFound(f"no model version {model_version_id or '(current)'}: run `mmi train` or `mmi link` first")
    return int(row.id), TrainedModel(json.loads(row.settings), json.loads(row.term_frequencies))


def _linker(engine: Engine, version_id: int, model: TrainedModel) -> tuple[duckdb.DuckDBPyConnection, DuckDBAPI, Linker]:
    """The cached linker for this store's model version (a store is named by its URL: tests run several)."""
    cache_key = (engine.url.render_as_string(hide_password=True), version_id)
    if cache_key not in _linkers:
        duck = duckdb.connect()
        load_person_records(engine, duck, PAIR, keys=[])
        db_api, linker = scoring_linker(duck, PAIR, model)
        if len(_linkers) >= 8:  # a server has one store and a model or two; tests make many
            oldest = next(iter(_linkers))
            _linkers.pop(oldest)[0].close()
        _linkers[cache_key] = (duck, db_api, linker)
    return _linkers[cache_key]


def _score(duck: duckdb.DuckDBPyConnection, db_api: DuckDBAPI, linker: Linker, left_key: str, right_key: str) -> dict[str, Any]:
    for side, key in (("l", left_key), ("r", right_key)):
        duck.execute(f"CREATE OR REPLACE TABLE {PAIR}_{side} AS SELECT * FROM {PAIR} WHERE unique_id = ?", [key])
    scored = linker.inference.score_pair(db_api.register(f"{PAIR}_l"), db_api.register(f"{PAIR}_r"))
    try:
        [record] = scored.as_record_list()
    finally:
        scored.drop_table_from_database_and_remove_from_cache()
    return dict(record)


def _explanation(waterfall: list[dict[str, Any]], record: dict[str, Any], version_id: int, left: str, right: str) -> Explanation:
    prior = next(bar for bar in waterfall if bar["column_name"] == "Prior")
    final = next(bar for bar in waterfall if bar["column_name"] == "Final score")
    tf = {bar["column_name"][3:]: bar for bar in waterfall if bar["term_frequency_adjustment"]}
    comparisons = [
        ComparisonWeight(
            name=bar["column_name"], level=str(bar["label_for_charts"]), comparison_vector_value=int(bar["comparison_vector_value"]),
            weight=float(bar["log2_bayes_factor"]), tf_weight=float(tf[bar["column_name"]]["log2_bayes_factor"]) if bar["column_name"] in tf else 0.0,
            values={"left": bar["value_l"], "right": bar["value_r"]},
        )
        for bar in waterfall
        if bar["term_frequency_adjustment"] is False
    ]
    return Explanation(prior_weight=float(prior["log2_bayes_factor"]), comparisons=comparisons, match_weight=float(final["log2_bayes_factor"]),
                       match_probability=float(record["match_probability"]), model_version=version_id, left=left, right=right)
