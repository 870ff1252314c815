"""The explanation's numbers are Splink's own for the pair and model version, and they add up."""

from __future__ import annotations

import json
import math

import duckdb
from splink.internals.waterfall_chart import records_to_waterfall_data
from sqlalchemy import select

from linkage.scoring import TrainedModel, scoring_linker
from mmi.index.inputs import load_person_records
from mmi.principal import Principal
from mmi.review import explain_pair, item_detail, queue_page
from mmi.review.explain import explain_pairs
from mmi.review.models import QueueFilters
from mmi.store.index_tables import match_pair, model_version
from mmi.store.review_tables import review_explanation


def test_the_waterfall_equals_splinks_scores_and_the_models_weights_and_adds_up(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    with state.engine.connect() as connection:
        pairs = connection.execute(select(match_pair).order_by(match_pair.c.match_probability, match_pair.c.left_key)).all()
        settings = json.loads(connection.execute(select(model_version.c.settings).where(model_version.c.is_current.is_(True))).scalar_one())
    # The whole band and some of the links, from the lowest score to certain ones.
    chosen = [pair for pair in pairs if pair.match_probability < 0.999] + pairs[len(pairs) // 2 :: max(1, len(pairs) // 12)]
    levels = {comparison["output_column_name"]: comparison["comparison_levels"] for comparison in settings["comparisons"]}
    tf_seen, checked = False, 0
    for pair in chosen:
        explanation = explain_pair(state.engine, pair.left_key, pair.right_key, pair.model_version_id)
        # Splink's own numbers for the pair, as the link run's prediction stored them:
        assert math.isclose(explanation.match_weight, pair.match_weight, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(explanation.match_probability, pair.match_probability, rel_tol=1e-9, abs_tol=1e-12)
        assert explanation.model_version == pair.model_version_id
        # They add up: the prior plus every comparison's weight and term-frequency adjustment.
        total = explanation.prior_weight + sum(c.weight + c.tf_weight for c in explanation.comparisons)
        assert math.isclose(total, explanation.match_weight, rel_tol=1e-9, abs_tol=1e-9)
        # Each comparison's weight is its level's log2(m/u) in the model version's settings (0 for a null level;
        # levels EM never saw keep Splink's defaults, which the settings do not spell out).
        for comparison in explanation.comparisons:
            level = _level(levels[comparison.name], comparison.comparison_vector_value)
            assert comparison.level == level.get("label_for_charts", comparison.level)
            tf_seen |= comparison.tf_weight != 0
            if level.get("is_null_level"):
                assert comparison.weight == 0.0
            elif isinstance(level.get("m_probability"), float) and isinstance(level.get("u_probability"), float):
                expected = math.log2(level["m_probability"] / level["u_probability"])
                assert math.isclose(comparison.weight, expected, rel_tol=1e-9, abs_tol=1e-9), (comparison, level)
                checked += 1
    prior = settings["probability_two_random_records_match"]
    assert math.isclose(explanation.prior_weight, math.log2(prior / (1 - prior)), rel_tol=1e-12)
    assert checked > 5 * len(chosen), "most comparisons were checked against the model's m and u"
    assert tf_seen, "some pair's name agreement is adjusted for how common the name is"


def test_the_bars_are_those_of_splinks_own_waterfall_chart_for_the_pair(linked) -> None:  # type: ignore[no-untyped-def]
    """Against Splink's own path, one pair at a time: `score_pair` and the waterfall chart's data."""
    state = linked()
    with state.engine.connect() as connection:
        pairs = connection.execute(select(match_pair).order_by(match_pair.c.match_probability)).all()
        row = connection.execute(select(model_version).where(model_version.c.is_current.is_(True))).one()
    model = TrainedModel(json.loads(row.settings), json.loads(row.term_frequencies))
    sample = pairs[:5] + pairs[-3:]
    explained = explain_pairs(state.engine, [(pair.left_key, pair.right_key) for pair in sample], row.id)
    for pair in sample:
        duck = duckdb.connect()
        load_person_records(state.engine, duck, "two", keys=[pair.left_key, pair.right_key])
        for side, key in (("l", pair.left_key), ("r", pair.right_key)):
            duck.execute(f"CREATE TABLE two_{side} AS SELECT * FROM two WHERE unique_id = ?", [key])
        db_api, linker = scoring_linker(duck, "two", model)
        [record] = linker.inference.score_pair(db_api.register("two_l"), db_api.register("two_r")).as_record_list()
        bars = records_to_waterfall_data([record], linker._settings_obj, hide_details=False)
        ours = explained[(pair.left_key, pair.right_key)]
        assert math.isclose(ours.prior_weight, bars[0]["log2_bayes_factor"], rel_tol=1e-12)
        assert math.isclose(ours.match_weight, bars[-1]["log2_bayes_factor"], rel_tol=1e-9, abs_tol=1e-9)
        splink = {bar["column_name"]: bar for bar in bars[1:-1]}
        for comparison in ours.comparisons:
            bar = splink[comparison.name]
            assert (comparison.level, comparison.comparison_vector_value) == (bar["label_for_charts"], bar["comparison_vector_value"])
            assert math.isclose(comparison.weight, bar["log2_bayes_factor"], rel_tol=1e-9, abs_tol=1e-9)
            tf = splink.get(f"tf_{comparison.name}")
            assert math.isclose(comparison.tf_weight, tf["log2_bayes_factor"] if tf else 0.0, rel_tol=1e-9, abs_tol=1e-9)
            assert comparison.values == {"left": bar["value_l"], "right": bar["value_r"]}
        duck.close()


def _level(levels: list[dict], vector_value: int) -> dict:  # type: ignore[type-arg]
    """Splink numbers a comparison's levels from the last (0) up, the null level -1."""
    non_null = [level for level in levels if not level.get("is_null_level")]
    if vector_value == -1:
        return next(level for level in levels if level.get("is_null_level"))
    return non_null[len(non_null) - 1 - vector_value]


def test_an_item_shows_the_explanation_and_keeps_it_for_the_next_view(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    steward = Principal("steward-a", "steward")
    item = queue_page(state.engine, steward, QueueFilters(kind="pair")).items[0]
    shown = item_detail(state.engine, steward, item.id)
    assert shown.explanation is not None and shown.explanation.match_probability == item.match_probability
    assert [view.key for view in shown.records] == item.records
    assert all(view.raw and view.fields for view in shown.records) and shown.records[0].differing
    with state.engine.connect() as connection:
        cached = connection.execute(select(review_explanation.c.explanation).where(review_explanation.c.item_id == item.id)).scalar_one()
    assert json.loads(cached) == json.loads(shown.explanation.model_dump_json())
    assert item_detail(state.engine, steward, item.id).explanation == shown.explanation
