"""Why a pair scored as it did: Splink's own waterfall for the pair, under the model version that scored it.

The pairs' current records are loaded exactly as linkage loads them (mmi.index.inputs) and scored by Splink's
`predict_within` with the model version's settings and frozen term frequencies (linkage.scoring), keeping
Splink's intermediate columns (what its `score_pair` keeps); the waterfall is read off the prediction row as
Splink's waterfall chart reads it (`splink.internals.waterfall_chart`): the prior, each comparison's level and
match weight (`mw_*`) with the term-frequency adjustment (`mw_tf_adj_*`) apart, and the match weight. Nothing is
recomputed here, so the numbers are Splink's, and they add up because Splink's match weight is that sum (its
prediction SQL adds them). Splink's own `records_to_waterfall_data` gives the same bars at 7 ms a pair in
Python, too slow for a queue; the tests check the two agree.

Many pairs are explained in one prediction: each pair's two records are copied under the pair's number and
blocked on it, so Splink compares exactly those two (left before right). Building a Linker and its SQL costs
about 0.2 s, which is why the queue explains its new items in batches when it is refreshed, and an item page
reads the kept explanation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
from splink.internals.comparison import Comparison
from splink.internals.misc import prob_to_match_weight
from sqlalchemy import Engine, select

from linkage.scoring import UNTRAINED_WARNING, TrainedModel, scoring_linker
from mmi.index.inputs import load_person_records
from mmi.review.errors import NotFound
from mmi.review.models import ComparisonWeight, Explanation
from mmi.store.index_tables import model_version

RECORDS, PAIRED = "review_records", "review_paired"
Pair = tuple[str, str]


def explain_pair(engine: Engine, left_key: str, right_key: str, model_version_id: int | None = None) -> Explanation:
    """The waterfall of the pair's current records under the model version (default: the current one)."""
    found = explain_pairs(engine, [(left_key, right_key)], model_version_id)
    if (left_key, right_key) not in found:
        raise NotFound(f"the pair {left_key} / {right_key} lacks a current person record: was one withdrawn?")
    return found[(left_key, right_key)]


def explain_pairs(engine: Engine, pairs: Sequence[Pair], model_version_id: int | None = None) -> dict[Pair, Explanation]:
    """Waterfalls of many pairs in one Splink prediction; pairs whose records are not all current are left out."""
    version_id, model = _model(engine, model_version_id)
    duck = duckdb.connect()
    try:
        load_person_records(engine, duck, RECORDS, keys=sorted({key for pair in pairs for key in pair}))
        wanted = pa.table(  # noqa: F841 - read by DuckDB by its name
            {
                "pair_no": pa.array(range(len(pairs)), pa.int64()),
                "left_key": pa.array([p[0] for p in pairs], pa.string()),
                "right_key": pa.array([p[1] for p in pairs], pa.string()),
            }
        )
        duck.execute(f"""CREATE TABLE {PAIRED} AS
            SELECT * REPLACE (printf('%012d|0|', w.pair_no) || r.unique_id AS unique_id), w.pair_no AS review_pair
            FROM wanted w JOIN {RECORDS} r ON r.unique_id = w.left_key
            UNION ALL
            SELECT * REPLACE (printf('%012d|1|', w.pair_no) || r.unique_id AS unique_id), w.pair_no AS review_pair
            FROM wanted w JOIN {RECORDS} r ON r.unique_id = w.right_key""")
        return _predict(duck, model, version_id, pairs)
    finally:
        duck.close()


def _model(engine: Engine, model_version_id: int | None) -> tuple[int, TrainedModel]:
    query = select(model_version.c.id, model_version.c.settings, model_version.c.term_frequencies)
    query = query.where(model_version.c.id == model_version_id) if model_version_id else query.where(model_version.c.is_current.is_(True))
    with engine.connect() as connection:
        row = connection.execute(query).one_or_none()
    if row is None:
        raise NotFound(f"no model version {model_version_id or '(current)'}: run `mmi train` or `mmi link` first")
    return int(row.id), TrainedModel(json.loads(row.settings), json.loads(row.term_frequencies))


def _predict(duck: duckdb.DuckDBPyConnection, model: TrainedModel, version_id: int, pairs: Sequence[Pair]) -> dict[Pair, Explanation]:
    db_api, linker = scoring_linker(duck, PAIRED, model)
    settings = linker._settings_obj
    settings._retain_matching_columns = True  # as score_pair sets them: the waterfall needs each comparison's
    settings._retain_intermediate_calculation_columns = True  # inputs, level, match weight and tf adjustment
    predictions = linker.inference.predict_within(
        db_api.register(PAIRED), blocking_rules_to_generate_predictions=["l.review_pair = r.review_pair"], warning_mode=UNTRAINED_WARNING
    )
    try:
        records = predictions.as_record_list()
    finally:
        predictions.drop_table_from_database_and_remove_from_cache()
    bars = [_Bars(comparison) for comparison in settings.comparisons]
    prior = prob_to_match_weight(settings._probability_two_random_records_match)
    explained = {}
    for record in records:
        pair = pairs[int(str(record["unique_id_l"]).split("|", 1)[0])]
        explained[pair] = Explanation(
            prior_weight=prior,
            comparisons=[bar.weight(record) for bar in bars],
            match_weight=record["match_weight"],
            match_probability=record["match_probability"],
            model_version=version_id,
            left=pair[0],
            right=pair[1],
        )
    return explained


class _Bars:
    """One comparison's bar of the waterfall, read from Splink's prediction row as its waterfall chart reads it:
    the level by comparison vector value, the level's match weight and its term-frequency adjustment apart."""

    def __init__(self, comparison: Comparison) -> None:
        self.name = comparison.output_column_name
        self.gamma, self.mw, self.tf = comparison._gamma_column_name, comparison._mw_column_name, comparison._mw_tf_adj_column_name
        self.has_tf = comparison._has_tf_adjustments
        self.labels = {level.comparison_vector_value: level.label_for_charts for level in comparison.comparison_levels}
        used = comparison._input_columns_used_by_case_statement
        self.left, self.right = [c.unquote().name_l for c in used], [c.unquote().name_r for c in used]

    def weight(self, record: dict[str, Any]) -> ComparisonWeight:
        value = int(record[self.gamma])
        return ComparisonWeight(
            name=self.name,
            level=str(self.labels[value]),
            comparison_vector_value=value,
            weight=float(record[self.mw]),
            tf_weight=float(record[self.tf]) if self.has_tf else 0.0,
            values={"left": ", ".join(str(record[n]) for n in self.left), "right": ", ".join(str(record[n]) for n in self.right)},
        )
