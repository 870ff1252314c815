"""Accuracy against truth: pairwise precision, recall and F1 of clusters, and cluster-level figures.

A cluster of n records asserts n(n-1)/2 pairs; a pair is correct when truth puts both records on one person.
Pairwise figures weigh big clusters more, so beside them: the share of true people whose records form exactly
one cluster with nothing else in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb


@dataclass(frozen=True)
class Accuracy:
    predicted_pairs: int
    correct_pairs: int
    true_pairs: int
    precision: float
    recall: float
    f1: float
    true_people: int
    people_exactly_clustered: float  # share of true people whose records are exactly one cluster

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate_clusters(duck: duckdb.DuckDBPyConnection, clusters: str, truth: str = "truth", truth_pairs: str = "truth_pairs") -> Accuracy:
    """`clusters` has (unique_id, cluster_id); `truth` (unique_id, person) and `truth_pairs` (id_l < id_r) as
    `linkage.blocking.load_truth_pairs` makes them."""
    duck.execute(f"""
        CREATE OR REPLACE TEMP TABLE predicted_pairs AS
        SELECT a.unique_id AS id_l, b.unique_id AS id_r FROM {clusters} a JOIN {clusters} b
          ON a.cluster_id = b.cluster_id AND a.unique_id < b.unique_id
    """)
    [(predicted, correct, true)] = duck.execute(f"""
        SELECT (SELECT count(*) FROM predicted_pairs),
               (SELECT count(*) FROM predicted_pairs JOIN {truth_pairs} USING (id_l, id_r)),
               (SELECT count(*) FROM {truth_pairs})
    """).fetchall()
    [(people, exact)] = duck.execute(f"""
        WITH joined AS (SELECT t.person, c.cluster_id FROM {truth} t JOIN {clusters} c USING (unique_id)),
             per_person AS (SELECT person, count(DISTINCT cluster_id) AS clusters, any_value(cluster_id) AS cluster_id, count(*) AS records
                            FROM joined GROUP BY person),
             cluster_sizes AS (SELECT cluster_id, count(*) AS size FROM {clusters} GROUP BY cluster_id)
        SELECT count(*), count(*) FILTER (WHERE p.clusters = 1 AND s.size = p.records)
        FROM per_person p JOIN cluster_sizes s USING (cluster_id)
    """).fetchall()
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Accuracy(predicted, correct, true, precision, recall, f1, people, exact / people if people else 1.0)
