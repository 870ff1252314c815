import random

from linkage.clustering import cluster_records

RECORDS = ["a", "b", "c", "d", "e"]


def clusters(cluster_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, cluster in cluster_of.items():
        groups.setdefault(cluster, set()).add(record)
    return {frozenset(group) for group in groups.values()}


def test_matches_join_transitively_and_unmatched_records_stay_alone() -> None:
    result = cluster_records(RECORDS, [("a", "b", 0.9995), ("b", "c", 0.9999)])
    assert clusters(result.cluster_of) == {frozenset("abc"), frozenset("d"), frozenset("e")}
    assert result.cluster_of["c"] == "a"  # a cluster is named by its smallest record key


def test_a_cannot_link_keeps_a_chain_apart_and_the_stronger_match_wins() -> None:
    # a-b is stronger than b-c: b joins a, and c, which must not meet a, stays out.
    result = cluster_records(RECORDS, [("a", "b", 0.99999), ("b", "c", 0.9995)], cannot_link=[("a", "c")])
    assert clusters(result.cluster_of) == {frozenset("ab"), frozenset("c"), frozenset("d"), frozenset("e")}
    assert result.refused == [("b", "c")]


def test_a_must_link_joins_records_no_match_joined() -> None:
    result = cluster_records(RECORDS, [("a", "b", 0.9999)], must_link=[("e", "b")])
    assert clusters(result.cluster_of) == {frozenset("abe"), frozenset("c"), frozenset("d")}


def test_a_must_link_that_contradicts_a_cannot_link_is_reported_not_applied() -> None:
    result = cluster_records(RECORDS, [], must_link=[("a", "b"), ("b", "c")], cannot_link=[("a", "c")])
    assert result.conflicting_must_links == [("b", "c")]
    assert result.cluster_of["a"] == result.cluster_of["b"] != result.cluster_of["c"]


def test_the_result_does_not_depend_on_the_order_pairs_arrive_in() -> None:
    generator = random.Random(7)
    records = [f"r{i:03d}" for i in range(200)]
    matches = [(*sorted(generator.sample(records, 2)), generator.choice([0.9991, 0.9995, 0.9999])) for _ in range(300)]
    cannot = [tuple(sorted(generator.sample(records, 2))) for _ in range(40)]
    expected = cluster_records(records, matches, cannot_link=cannot).cluster_of
    for _ in range(5):
        generator.shuffle(matches)
        assert cluster_records(reversed(records), matches, cannot_link=cannot).cluster_of == expected
    together = {(a, b) for a, b in cannot if expected[a] == expected[b]}
    assert together == set()
