from linkage.clustering import cluster_records
from linkage.conflicts import RULE_NAMES, ExcusedNumbers, Identity, find_conflict, find_unexcused_conflict
from linkage.standardise.idnumber import check_character, upgrade_15_to_18


def valid(first17: str) -> str:
    return first17 + check_character(first17)


TWIN_A = valid("41010519900307011")  # twins: region and birth date shared, the sequence and check differ
TWIN_B = valid("41010519900307013")
OTHER_WOMAN = valid("41010519900307022")


def test_two_valid_numbers_that_differ_are_two_people_and_the_detail_names_the_parts() -> None:
    conflict = find_conflict(Identity(TWIN_A), Identity(TWIN_B))
    assert conflict is not None and conflict.rule == "different_valid_id_numbers"
    assert conflict.detail == "two valid ID numbers differing in sequence, check character"
    assert TWIN_A not in conflict.detail  # no personal data in what stewards' queues show
    assert find_conflict(Identity(TWIN_A), Identity(TWIN_A)) is None


def test_an_upgraded_15_digit_number_one_typo_or_swap_away_is_the_same_number_mistyped() -> None:
    typo = upgrade_15_to_18("410105900307021")  # the 15-digit card with the sequence's middle digit mistyped
    assert find_conflict(Identity(TWIN_A), Identity(typo, check_carried=False)) is None
    swapped = upgrade_15_to_18("410105903007011")  # day's digits swapped
    conflict = find_conflict(Identity(TWIN_A), Identity(swapped, check_carried=False))
    assert conflict is not None and conflict.rule == "id_birth_date_differs"  # the birth date the numbers carry still differs
    far = upgrade_15_to_18("410105900307055")
    conflict = find_conflict(Identity(TWIN_A), Identity(far, check_carried=False))
    assert conflict is not None and conflict.rule == "different_valid_id_numbers" and "upgraded" in conflict.detail


def test_the_sex_digit_rule_fires_when_only_the_sex_digit_of_an_upgraded_number_differs() -> None:
    typo = upgrade_15_to_18("410105900307012")  # the sequence's last digit: a woman's number
    conflict = find_conflict(Identity(TWIN_A), Identity(typo, check_carried=False))
    assert conflict is not None and conflict.rule == "id_sex_differs"
    assert set(RULE_NAMES) == {"different_valid_id_numbers", "id_sex_differs", "id_birth_date_differs"}


def test_must_links_excuse_the_numbers_they_join_transitively() -> None:
    identities = {"a": Identity(TWIN_A), "b": Identity(TWIN_B), "c": Identity(OTHER_WOMAN)}
    excused = ExcusedNumbers([("a", "b"), ("b", "c")], identities)
    assert excused.excused(TWIN_A, OTHER_WOMAN)
    assert find_unexcused_conflict(Identity(TWIN_A), Identity(OTHER_WOMAN), excused) is None
    assert find_conflict(Identity(TWIN_A), Identity(OTHER_WOMAN)) is not None


def test_clustering_refuses_a_direct_conflict_whatever_the_score() -> None:
    result = cluster_records(["a", "b"], [("a", "b", 0.999999)], identities={"a": Identity(TWIN_A), "b": Identity(TWIN_B)})
    assert result.cluster_of["a"] != result.cluster_of["b"]
    [refused] = result.identity_conflicts
    assert (refused.left, refused.right, refused.conflicting, refused.conflict.rule) == ("a", "b", ("a", "b"), "different_valid_id_numbers")


def test_clustering_refuses_a_chain_that_would_join_two_numbers_and_names_the_two_records() -> None:
    # a twin, a record without an ID (a survey answer) that matches both, the other twin: the weaker link is refused.
    identities = {"a": Identity(TWIN_A), "c": Identity(TWIN_B)}
    result = cluster_records(["a", "b", "c"], [("a", "b", 0.9999), ("b", "c", 0.9995)], identities=identities)
    assert result.cluster_of["a"] == result.cluster_of["b"] != result.cluster_of["c"]
    [refused] = result.identity_conflicts
    assert (refused.left, refused.right, refused.conflicting) == ("b", "c", ("a", "c"))


def test_a_steward_must_link_joins_conflicting_numbers_and_later_matches_may_follow() -> None:
    identities = {"a": Identity(TWIN_A), "b": Identity(TWIN_B), "c": Identity(TWIN_B), "d": Identity(OTHER_WOMAN)}
    matches = [("b", "c", 0.9999), ("c", "d", 0.9999)]
    result = cluster_records(["a", "b", "c", "d"], matches, must_link=[("a", "b")], identities=identities)
    assert result.cluster_of["a"] == result.cluster_of["b"] == result.cluster_of["c"] != result.cluster_of["d"]
    assert [(r.left, r.right) for r in result.identity_conflicts] == [("c", "d")]
