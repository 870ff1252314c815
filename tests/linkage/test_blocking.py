"""Blocking on generated feeds: nearly every true pair kept, pairs about linear in records, rules Splink takes."""

from __future__ import annotations

from pathlib import Path

import duckdb
from splink import DuckDBAPI
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from linkage.blocking import BLOCKING_RULES, load_truth_pairs, measure_blocking
from linkage.inputs import RECORDS


def test_blocking_keeps_nearly_every_true_pair_at_three_times_the_noise(linked_inputs: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    duck, out = linked_inputs
    true_pairs = load_truth_pairs(duck, str(out / "truth.csv"))
    [(records,)] = duck.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()
    steps = measure_blocking(duck, "truth_pairs")
    assert true_pairs > records // 2  # a real test: most people have records in several departments
    assert steps[-1].cumulative_recall >= 0.995, steps
    assert steps[-1].cumulative_pairs <= 3 * records, steps  # near-linear, not quadratic
    assert [step.cumulative_recall for step in steps] == sorted(step.cumulative_recall for step in steps)


def test_splink_takes_every_rule_and_counts_the_same_pairs(linked_inputs: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    """Splink's own count of the rules' pairs (rule by rule, each new pair once) equals ours."""
    duck, out = linked_inputs
    load_truth_pairs(duck, str(out / "truth.csv"))
    ours = measure_blocking(duck, "truth_pairs")
    records = DuckDBAPI(connection=duck).register(RECORDS)
    counted = count_comparisons_from_blocking_rules(
        records, blocking_rules=[rule.sql for rule in BLOCKING_RULES], link_type="dedupe_only", record_sample_proportion=1.0
    )
    assert [record["marginal_comparison_count"] for record in counted] == [step.new_pairs for step in ours]
    assert counted[-1]["cumulative_comparison_count"] == ours[-1].cumulative_pairs > 0
