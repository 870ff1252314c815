"""Decisions, on SQLite and PostgreSQL: what they record, four eyes on published masters, constraints applied by
the next run and kept by every later one, several items at once, and decisions re-raised when records change."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mmi.exchange import exchange_settings, publish
from mmi.index import link_index
from mmi.principal import Principal
from mmi.review import (
    BatchDecisionRequest,
    DecisionRequest,
    InvalidDecision,
    NotAllowed,
    QueueFilters,
    StateConflict,
    approve,
    decide,
    decide_many,
    get_decision,
    item_detail,
    preview_decision,
    queue_page,
    reject,
)
from mmi.review.models import QueueItem
from mmi.store.index_tables import link_constraint
from mmi.store.review_tables import review_decision, review_item
from tests.mmi.review.helpers import change_public_security_row, cluster_to_split, false_merges, masters, truth

A, B = Principal("steward-a", "steward"), Principal("steward-b", "steward")


def false_merge_item(state) -> tuple[QueueItem, list[list[str]]]:  # type: ignore[no-untyped-def]
    """A cluster item over a real false merge, and its records grouped by true person."""
    people = truth(state.feeds)
    clusters = queue_page(state.engine, A, QueueFilters(kind="cluster"), limit=500).items
    return cluster_to_split(clusters, false_merges(state.engine, people), people, masters(state.engine))


def constraints(engine) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return {
            tuple(row)
            for row in connection.execute(select(link_constraint.c.kind, link_constraint.c.left_key, link_constraint.c.right_key))
        }


def test_a_split_is_recorded_applied_by_the_next_run_and_kept_by_a_full_one(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    item, groups = false_merge_item(state)
    shown = item_detail(state.engine, A, item.id)
    assert shown.graph is not None and set(shown.graph.nodes) == {key for group in groups for key in group}
    created = decide(state.engine, A, item.id, DecisionRequest(decision="split", reason="twins: two valid ID numbers", groups=groups))
    assert created.status == "accepted"  # nothing was published yet: no second steward needed
    decision = get_decision(state.engine, A, created.id)
    assert decision.decided_by == "steward-a" and decision.reason == "twins: two valid ID numbers" and decision.model_version
    assert len(decision.values_sha256) == 64 and set(decision.record_versions) == set(shown.graph.nodes)
    assert decision.applied_run_id is None and decision.groups == sorted(sorted(group) for group in groups)
    assert {kind for kind, _left, _right in decision.constraints} == {"cannot_link"} | (
        {"must_link"} if max(map(len, groups)) > 1 else set()
    )
    run = link_index(state.settings, state.engine)
    after = masters(state.engine)
    assert all(any(set(group) == records for records in after.values()) for group in groups)
    applied = get_decision(state.engine, A, created.id)
    assert applied.applied_run_id == run.run_id and {event["operation"] for event in applied.events} & {"split", "create"}
    full = link_index(state.settings, state.engine, full=True)
    assert full.mode == "full" and masters(state.engine) == after
    assert item_detail(state.engine, A, item.id).status == "resolved"
    raised = {master for queued in queue_page(state.engine, A, QueueFilters(kind="cluster"), limit=500).items for master in queued.masters}
    assert not raised & {master for master, records in after.items() if any(set(group) == records for group in groups)}


def test_four_eyes_on_a_published_master(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    publish(state.settings, state.engine)
    item, groups = false_merge_item(state)
    request = DecisionRequest(decision="split", reason="twins", groups=groups)
    preview = preview_decision(state.engine, A, item.id, request, exchange_settings(state.settings).subscriptions)
    assert preview.needs_approval and "everywhere" in preview.published_to and "everywhere" in preview.subscribers
    assert preview.kept == item.masters and len(preview.created) == len(groups) - 1 and not preview.retired
    before = constraints(state.engine)
    proposed = decide(state.engine, A, item.id, request)
    assert proposed.status == "proposed" and constraints(state.engine) == before
    with pytest.raises(StateConflict):
        decide(state.engine, B, item.id, request)  # one proposal at a time
    with pytest.raises(NotAllowed):
        approve(state.engine, A, proposed.id)
    with pytest.raises(NotAllowed):
        reject(state.engine, A, proposed.id)
    with pytest.raises(NotAllowed):
        approve(state.engine, Principal("auditor-1", "auditor"), proposed.id)
    accepted = approve(state.engine, B, proposed.id, "checked the two ID numbers")
    assert accepted.status == "accepted"
    decision = get_decision(state.engine, A, proposed.id)
    assert decision.reviewed_by == "steward-b" and decision.review_reason == "checked the two ID numbers"
    assert {tuple(constraint) for constraint in decision.constraints} <= constraints(state.engine)
    with pytest.raises(StateConflict):
        approve(state.engine, B, proposed.id)


def test_a_rejected_proposal_changes_nothing_and_a_decision_that_changes_no_master_needs_no_second_steward(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    publish(state.settings, state.engine)
    pairs = queue_page(state.engine, A, QueueFilters(kind="pair"), limit=500).items
    inside = next(item for item in pairs if len(item.masters) == 1)  # not_match would split a published master
    across = next(item for item in pairs if len(item.masters) == 2)  # not_match changes nothing
    proposed = decide(state.engine, A, inside.id, DecisionRequest(decision="not_match", reason="different people"))
    assert proposed.status == "proposed"
    assert reject(state.engine, B, proposed.id, "same person, a typo").status == "rejected"
    assert item_detail(state.engine, A, inside.id).status == "open" and not constraints(state.engine)
    assert decide(state.engine, A, across.id, DecisionRequest(decision="not_match", reason="different people")).status == "accepted"
    assert ("cannot_link", *across.records) in constraints(state.engine)


def test_several_items_with_one_reason_all_or_none(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    pairs = [item for item in queue_page(state.engine, A, QueueFilters(kind="pair"), limit=500).items if len(item.masters) == 2][:2]
    cluster = queue_page(state.engine, A, QueueFilters(kind="cluster")).items[0]
    with state.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(review_decision)).scalar_one()
    with pytest.raises(InvalidDecision):
        decide_many(state.engine, A, BatchDecisionRequest(decision="not_match", reason="x", items=[pairs[0].id, cluster.id]))
    with state.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(review_decision)).scalar_one() == count
    created = decide_many(
        state.engine,
        A,
        BatchDecisionRequest(decision="not_match", reason="namesakes, different birth dates", items=[item.id for item in pairs]),
    )
    assert [decision.status for decision in created] == ["accepted"] * len(pairs)
    with state.engine.connect() as connection:
        rows = connection.execute(select(review_decision).where(review_decision.c.id.in_([d.id for d in created]))).all()
    assert len({row.batch for row in rows}) == 1 and {row.reason for row in rows} == {"namesakes, different birth dates"}


def test_decisions_that_do_not_fit_the_item_are_refused(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    item, groups = false_merge_item(state)
    pair = queue_page(state.engine, A, QueueFilters(kind="pair")).items[0]
    with pytest.raises(InvalidDecision):
        decide(state.engine, A, item.id, DecisionRequest(decision="split", reason="x", groups=groups[:1]))  # records missing
    with pytest.raises(InvalidDecision):
        decide(state.engine, A, pair.id, DecisionRequest(decision="split", reason="x", record=pair.records[0]))
    with pytest.raises(InvalidDecision):
        decide(state.engine, A, item.id, DecisionRequest(decision="not_match", reason="x"))
    with pytest.raises(ValidationError):
        DecisionRequest(decision="split", reason="no groups")
    with pytest.raises(NotAllowed):
        decide(state.engine, Principal("auditor-1", "auditor"), pair.id, DecisionRequest(decision="match", reason="x"))
    out = decide(state.engine, A, item.id, DecisionRequest(decision="split", reason="one record out", record=groups[0][0]))
    assert out.status == "accepted"


def test_a_record_changed_after_a_decision_raises_it_as_invalidated_and_the_decision_stays_in_force(linked) -> None:  # type: ignore[no-untyped-def]
    state = linked()
    pair = next(
        item
        for item in queue_page(state.engine, A, QueueFilters(kind="pair"), limit=500).items
        if any(key.startswith("public_security|") for key in item.records)
    )
    decided = decide(state.engine, A, pair.id, DecisionRequest(decision="not_match", reason="different people"))
    link_index(state.settings, state.engine)
    assert not queue_page(state.engine, A, QueueFilters(kind="invalidated")).items
    record = next(key for key in pair.records if key.startswith("public_security|"))
    change_public_security_row(state.feeds, record.partition("|")[2], "13900000000")
    state.ingest()
    link_index(state.settings, state.engine)
    [invalidated] = queue_page(state.engine, A, QueueFilters(kind="invalidated")).items
    assert invalidated.decision_id == decided.id and record in invalidated.reason
    assert get_decision(state.engine, A, decided.id).status == "accepted"  # still in force
    assert ("cannot_link", *pair.records) in constraints(state.engine)
    confirmed = decide(state.engine, B, invalidated.id, DecisionRequest(decision="not_match", reason="still different people"))
    assert confirmed.status == "accepted"
    old = get_decision(state.engine, A, decided.id)
    assert old.status == "superseded" and old.superseded_by == confirmed.id
    link_index(state.settings, state.engine)
    assert not queue_page(state.engine, A, QueueFilters(kind="invalidated")).items
    with state.engine.connect() as connection:
        versions = json.loads(
            connection.execute(select(review_decision.c.record_versions).where(review_decision.c.id == confirmed.id)).scalar_one()
        )
        assert versions[record] == 2
        assert connection.execute(select(review_item.c.resolution).where(review_item.c.id == invalidated.id)).scalar_one() == "decided"
