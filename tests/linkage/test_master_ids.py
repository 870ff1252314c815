"""Stable master IDs through creations, updates, merges, splits and retirements."""

from __future__ import annotations

import itertools

from linkage.master_ids import Assignment, MasterEvent, assign_master_ids


def minting(start: int = 1):  # type: ignore[no-untyped-def]
    counter = itertools.count(start)
    return lambda: f"M{next(counter):06d}"


def run(previous: dict[str, str], clusters: dict[str, str], start: int = 100) -> Assignment:
    return assign_master_ids(previous, clusters, minting(start))


def ops(assignment: Assignment) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(event.operation, event.master_id, event.related) for event in assignment.events]


def test_a_first_run_creates_one_master_per_cluster() -> None:
    first = run({}, {"a": "c1", "b": "c1", "c": "c2"}, start=1)
    assert first.master_of == {"a": "M000001", "b": "M000001", "c": "M000002"}
    assert ops(first) == [("create", "M000001", ()), ("create", "M000002", ())]
    assert first.events[0].after == {"a", "b"}


def test_the_same_clusters_again_change_nothing_whatever_their_labels() -> None:
    previous = {"a": "M000001", "b": "M000001", "c": "M000002"}
    again = run(previous, {"a": "x9", "b": "x9", "c": "x1"})
    assert again.master_of == previous and again.events == []


def test_a_new_record_joining_a_person_updates_it() -> None:
    result = run({"a": "M000001"}, {"a": "k", "b": "k"})
    assert result.master_of == {"a": "M000001", "b": "M000001"}
    assert result.events == [MasterEvent("update", "M000001", frozenset({"a"}), frozenset({"a", "b"}))]


def test_a_merge_keeps_the_older_id_and_retires_the_other() -> None:
    previous = {"a": "M000005", "b": "M000005", "c": "M000002"}
    result = run(previous, {"a": "k", "b": "k", "c": "k"})
    assert set(result.master_of.values()) == {"M000002"}  # older, though it held fewer records
    assert ops(result) == [("merge", "M000002", ("M000005",)), ("retire", "M000005", ("M000002",))]
    merge = result.events[0]
    assert (merge.before, merge.after) == ({"c"}, {"a", "b", "c"})


def test_a_split_keeps_the_id_on_the_larger_part() -> None:
    previous = {"a": "M000001", "b": "M000001", "c": "M000001"}
    result = run(previous, {"a": "k1", "b": "k2", "c": "k2"})
    assert result.master_of == {"a": "M000100", "b": "M000001", "c": "M000001"}
    assert ops(result) == [("update", "M000001", ()), ("split", "M000100", ("M000001",))]
    assert result.events[1].after == {"a"}


def test_an_even_split_is_decided_the_same_way_every_time() -> None:
    previous = {"a": "M000001", "b": "M000001", "c": "M000001", "d": "M000001"}
    for labels in (("k1", "k2"), ("k2", "k1"), ("zz", "aa")):
        clusters = {"a": labels[0], "b": labels[0], "c": labels[1], "d": labels[1]}
        assert run(previous, clusters).master_of["a"] == "M000001"  # the part holding the smallest key


def test_a_master_whose_records_are_all_gone_is_retired_without_successor() -> None:
    result = run({"a": "M000001", "b": "M000002"}, {"a": "k"})
    assert ops(result) == [("retire", "M000002", ())]
    assert result.events[0].before == {"b"}


def test_split_and_merge_in_one_run() -> None:
    # M1 = {a, b, c}, M2 = {d}. Now {a, b} stay together, c joins d.
    previous = {"a": "M000001", "b": "M000001", "c": "M000001", "d": "M000002"}
    result = run(previous, {"a": "p", "b": "p", "c": "q", "d": "q"})
    assert result.master_of == {"a": "M000001", "b": "M000001", "c": "M000002", "d": "M000002"}
    assert ops(result) == [("update", "M000001", ()), ("update", "M000002", ())]


def test_a_cluster_of_records_from_a_retired_master_names_it() -> None:
    # M1 = {a, b}, M2 = {c, d}; a and c now form a person, b and d another; both old IDs survive on the rest.
    previous = {"a": "M000001", "b": "M000001", "c": "M000002", "d": "M000002", "e": "M000002"}
    result = run(previous, {"a": "x", "c": "x", "b": "y", "d": "z", "e": "z"})
    assert result.master_of["d"] == "M000002" and result.master_of["a"] == "M000001"
    assert result.master_of["b"] == "M000100"
    assert ("split", "M000100", ("M000001",)) in ops(result)


def test_invariants_hold_over_random_reclusterings() -> None:
    import random

    for seed in range(200):
        rng = random.Random(seed)
        records = [f"r{i:02d}" for i in range(rng.randint(1, 25))]
        previous = {r: f"M{rng.randint(1, 8):06d}" for r in records if rng.random() < 0.8}
        clusters = {r: f"c{rng.randint(1, 8)}" for r in records if rng.random() < 0.9}
        result = run(previous, clusters)
        # Every clustered record has a master; one master per cluster, and no master for two clusters.
        assert set(result.master_of) == set(clusters)
        by_cluster = {c: {result.master_of[r] for r in clusters if clusters[r] == c} for c in set(clusters.values())}
        assert all(len(masters) == 1 for masters in by_cluster.values())
        assert len({next(iter(m)) for m in by_cluster.values()}) == len(by_cluster)
        # Every old master either lives on or is retired, exactly once.
        living = set(result.master_of.values())
        retired = [e.master_id for e in result.events if e.operation == "retire"]
        assert sorted(retired) == sorted(set(retired))
        assert set(previous.values()) <= living | set(retired) and not living & set(retired)
        # Events tell the memberships the assignment has.
        for event in result.events:
            if event.operation != "retire":
                assert event.after == {r for r, m in result.master_of.items() if m == event.master_id}, (seed, event)
        # And a second run on the same clusters changes nothing.
        assert run(result.master_of, clusters).events == [], seed
