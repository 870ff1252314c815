"""Decisions as the API and pages show them: what was decided, by whom, and what the index did with it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from mmi.review.models import DecisionView, Explanation
from mmi.store.index_tables import link_constraint, master_event, master_xref

CONSTRAINT_REASON = "review decision {id}: {reason}"


def constraint_marker(decision_id: int) -> str:
    """How a decision's link constraints begin their reason: the way back from a constraint to its decision."""
    return CONSTRAINT_REASON.format(id=decision_id, reason="")


def decision_view(connection: Connection, row: Any) -> DecisionView:
    applied = _applied_run(connection, int(row.id)) if row.status == "accepted" else None
    records = json.loads(row.records)
    return DecisionView(
        id=row.id,
        item_id=row.item_id,
        item_kind=row.item_kind,
        decision=row.decision,
        status=row.status,
        reason=row.reason,
        groups=json.loads(row.groups),
        records=records,
        masters=json.loads(row.masters),
        constraints=[list(constraint) for constraint in json.loads(row.constraints)],
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        model_version=row.model_version_id,
        explanation=Explanation.model_validate_json(row.explanation) if row.explanation else None,
        values_sha256=row.values_sha256,
        record_versions=json.loads(row.record_versions),
        published_to=json.loads(row.published_to),
        needs_approval=row.needs_approval,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_reason=row.review_reason,
        applied_run_id=applied,
        events=_events(connection, applied, records) if applied else [],
        superseded_by=row.superseded_by,
    )


def _applied_run(connection: Connection, decision_id: int) -> int | None:
    """The run that applied the decision's constraints (all of them: they are written together)."""
    runs = (
        connection.execute(
            select(link_constraint.c.applied_run_id).where(link_constraint.c.reason.like(constraint_marker(decision_id) + "%"))
        )
        .scalars()
        .all()
    )
    return None if not runs or None in runs else int(min(runs))


def _events(connection: Connection, run_id: int, records: list[str]) -> list[dict[str, Any]]:
    """The events that run wrote about masters holding (before or after) any of the decision's records."""
    wanted = set(records)
    masters = {
        m
        for d, k, m in connection.execute(
            select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id).where(master_xref.c.run_id == run_id)
        )
        if f"{d}|{k}" in wanted
    }
    query = (
        select(
            master_event.c.seq,
            master_event.c.operation,
            master_event.c.master_id,
            master_event.c.related,
            master_event.c.records_before,
            master_event.c.records_after,
        )
        .where(master_event.c.run_id == run_id)
        .order_by(master_event.c.seq)
    )
    events = []
    for row in connection.execute(query):
        before, after = json.loads(row.records_before), json.loads(row.records_after)
        if row.master_id in masters or wanted.intersection(before) or wanted.intersection(after):
            events.append(
                {
                    "seq": row.seq,
                    "operation": row.operation,
                    "master_id": row.master_id,
                    "related": json.loads(row.related),
                    "records_before": before,
                    "records_after": after,
                }
            )
    return events
