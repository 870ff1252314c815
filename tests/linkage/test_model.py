"""The model trained on generated feeds, clustered, and measured against truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
from splink import DuckDBAPI
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from linkage.blocking import load_truth_pairs
from linkage.evaluate import evaluate_clusters
from linkage.inputs import RECORDS
from linkage.model import EM_BLOCKS, PRIOR_BLOCK, block_rule, trained_linker, training_pairs


def test_the_model_links_people_across_departments_at_three_times_the_noise(linked_inputs: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    duck, out = linked_inputs
    load_truth_pairs(duck, str(out / "truth.csv"))
    linker = trained_linker(DuckDBAPI(connection=duck))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=0.999)
    accuracy = evaluate_clusters(duck, clusters.physical_name)
    # Small data (1,500 people) at three times the realistic noise: looser than the aims at scale.
    assert accuracy.true_pairs > 1000
    assert accuracy.precision >= 0.995 and accuracy.recall >= 0.99, accuracy
    assert accuracy.people_exactly_clustered >= 0.98, accuracy


def test_the_training_pairs_counted_before_training_are_those_splink_trains_on(
    linked_inputs: tuple[duckdb.DuckDBPyConnection, Path],
) -> None:
    """Every department's records, then one department's alone (the first ingest to finish): our count of each
    training rule's pairs equals Splink's exact count, so the readiness check sees what EM would."""
    duck, _ = linked_inputs
    duck.execute(f"CREATE OR REPLACE TABLE one_department AS SELECT * FROM {RECORDS} WHERE department = 'public_security'")
    for table in (RECORDS, "one_department"):
        counted = training_pairs(duck, table)
        rules = [block_rule(block) for block in dict.fromkeys((PRIOR_BLOCK, *EM_BLOCKS))]
        assert (
            list(counted)
            == rules
            == ["l.id_number = r.id_number", "l.name_pinyin = r.name_pinyin AND l.birth_year_month = r.birth_year_month"]
        )
        records = DuckDBAPI(connection=duck).register(table)
        for rule in rules:  # each rule alone: a session sees all of its rule's pairs, not only those new after the last
            [splinks] = count_comparisons_from_blocking_rules(
                records, blocking_rules=rule, link_type="dedupe_only", record_sample_proportion=1.0
            )
            assert splinks["cumulative_comparison_count"] == counted[rule], (table, rule)
    everyone, one = training_pairs(duck, RECORDS), training_pairs(duck, "one_department")
    assert all(everyone[rule] > 1000 for rule in everyone) and all(one[rule] < everyone[rule] / 20 for rule in one), (everyone, one)


def test_evaluation_counts_pairs_and_exact_people() -> None:
    duck = duckdb.connect()
    duck.execute(
        "CREATE TABLE truth AS SELECT * FROM (VALUES ('a', 'P1'), ('b', 'P1'), ('c', 'P1'), ('d', 'P2'), ('e', 'P3')) t(unique_id, person)"
    )
    duck.execute("CREATE TABLE truth_pairs AS SELECT * FROM (VALUES ('a', 'b'), ('a', 'c'), ('b', 'c')) t(id_l, id_r)")
    # P1 split into {a, b} and {c}; d and e wrongly merged.
    duck.execute(
        "CREATE TABLE clusters AS SELECT * FROM (VALUES ('a', 1), ('b', 1), ('c', 2), ('d', 3), ('e', 3)) t(unique_id, cluster_id)"
    )
    accuracy = evaluate_clusters(duck, "clusters")
    assert (accuracy.predicted_pairs, accuracy.correct_pairs, accuracy.true_pairs) == (2, 1, 3)
    assert (accuracy.precision, round(accuracy.recall, 4), round(accuracy.f1, 4)) == (0.5, 0.3333, 0.4)
    assert (accuracy.true_people, accuracy.people_exactly_clustered) == (3, 0.0)  # P1 split, P2 and P3 merged: none exact


def test_learned_m_values_are_bounded_below_and_fixed_ones_kept() -> None:
    from linkage.model import M_FLOOR, bound_m_probabilities

    model = {
        "comparisons": [
            {
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.9},
                    {"m_probability": 1e-146},  # what EM makes of a level its matches never show
                    {"m_probability": 1e-5, "fix_m_probability": True},
                    {"m_probability": 0.1 - 1e-5},
                ]
            }
        ]
    }
    levels = bound_m_probabilities(model)["comparisons"][0]["comparison_levels"]
    assert levels[2]["m_probability"] >= M_FLOOR * 0.99
    assert levels[3]["m_probability"] == 1e-5
    assert abs(sum(level.get("m_probability", 0) for level in levels) - 1) < 1e-12
