"""The model trained on generated feeds, clustered, and measured against truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
from splink import DuckDBAPI

from linkage.blocking import load_truth_pairs
from linkage.evaluate import evaluate_clusters
from linkage.model import trained_linker


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
