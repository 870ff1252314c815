"""Stewards' decisions: recorded with who, when, why and what was seen; four eyes on published masters;
accepted ones become link constraints that every later run honours.

A decision keeps the explanation the steward was shown, the model version, the source versions of its records
and a hash of their compared values, so that a later change to a record raises it again as `invalidated`
(mmi.review.candidates). A decision that would merge, split or retire a master some subscriber already holds is
`proposed`: a *different* steward approves it (then it is accepted) or rejects it; the proposer may do neither.
Accepting writes the decision's constraints to `link_constraint` (replacing any on the same pairs, and any the
decision it supersedes wrote), in the same transaction as the decision's new status; the next `mmi link` applies
them, and the item leaves the queue as `decided`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from mmi.audit.decisions import log_decision
from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.review.access import require_reader, require_steward, visible
from mmi.review.errors import NotAllowed, NotFound, StateConflict
from mmi.review.items import item_explanation, visible_item
from mmi.review.models import (
    BatchDecisionRequest,
    DecisionCreated,
    DecisionPage,
    DecisionRequest,
    DecisionStatus,
    DecisionView,
    Explanation,
)
from mmi.review.preview import plan_decision
from mmi.review.records import compared_values_sha256, record_views
from mmi.review.views import CONSTRAINT_REASON, constraint_marker, decision_view
from mmi.store.index_tables import link_constraint, model_version
from mmi.store.review_tables import review_decision, review_item


def decide(
    engine: Engine,
    principal: Principal,
    item_id: int,
    request: DecisionRequest,
    subscriptions: Mapping[str, Subscription] | None = None,
    *,
    now: dt.datetime | None = None,
) -> DecisionCreated:
    """A steward's decision on one item: `accepted` at once, or `proposed` when it touches a published master."""
    batch = BatchDecisionRequest(**request.model_dump(), items=[item_id])
    return decide_many(engine, principal, batch, subscriptions, now=now, batch_id=None)[0]


def decide_many(
    engine: Engine,
    principal: Principal,
    request: BatchDecisionRequest,
    subscriptions: Mapping[str, Subscription] | None = None,
    *,
    now: dt.datetime | None = None,
    batch_id: str | None = "new",
) -> list[DecisionCreated]:
    """The same decision and reason on several items, all or none."""
    require_steward(principal)
    now = now or dt.datetime.now(dt.UTC)
    batch = str(uuid.uuid4()) if batch_id == "new" else batch_id
    with engine.connect() as connection:  # the explanations shown, computed (or read) before the transaction
        items = [visible_item(connection, principal, item_id) for item_id in dict.fromkeys(request.items)]
    shown = {item.id: item_explanation(engine, item) for item in items}
    single = DecisionRequest(**request.model_dump(exclude={"items"}))
    with engine.begin() as connection:
        return [
            _decide_one(
                connection, principal, visible_item(connection, principal, item.id), single, shown[item.id], subscriptions or {}, now, batch
            )
            for item in items
        ]


def _decide_one(
    connection: Connection,
    principal: Principal,
    item: Any,
    request: DecisionRequest,
    shown: Explanation | None,
    subscriptions: Mapping[str, Subscription],
    now: dt.datetime,
    batch: str | None,
) -> DecisionCreated:
    if item.status != "open":
        raise StateConflict(f"item {item.id} is {item.status} ({item.resolution}): there is nothing to decide")
    pending = connection.execute(
        select(review_decision.c.id).where(review_decision.c.item_id == item.id, review_decision.c.status == "proposed")
    ).scalar()
    if pending is not None:
        raise StateConflict(f"item {item.id} already has decision {pending} awaiting a second steward: approve or reject it first")
    plan = plan_decision(connection, item, request, subscriptions)
    views = record_views(connection, plan.records)
    status: DecisionStatus = "proposed" if plan.preview.needs_approval else "accepted"
    decision_id = int(
        connection.execute(
            insert(review_decision)
            .values(
                item_id=item.id,
                item_kind=plan.item_kind,
                decision=request.decision,
                status=status,
                reason=request.reason,
                groups=json.dumps(plan.groups),
                records=json.dumps(plan.records),
                masters=json.dumps(json.loads(item.masters)),
                constraints=json.dumps(plan.constraints),
                decided_by=principal.subject,
                decided_at=now,
                batch=batch,
                model_version_id=shown.model_version if shown else item.model_version_id or _current_model_version(connection),
                explanation=shown.model_dump_json() if shown else None,
                values_sha256=compared_values_sha256(views),
                record_versions=json.dumps({view.key: view.version for view in views}),
                published_to=json.dumps(plan.preview.published_to),
                needs_approval=plan.preview.needs_approval,
            )
            .returning(review_decision.c.id)
        ).scalar_one()
    )
    if status == "accepted":
        _accept(connection, decision_id, principal.subject, request.reason, plan.constraints, item, now)
    log_decision(connection, decision_id)  # the tamper-evident log (mmi.audit.decisions)
    return DecisionCreated(id=decision_id, status=status, item_id=item.id)


def _current_model_version(connection: Connection) -> int | None:
    return connection.execute(select(model_version.c.id).where(model_version.c.is_current.is_(True))).scalar()


def _accept(
    connection: Connection, decision_id: int, decided_by: str, reason: str, constraints: list[Any], item: Any, now: dt.datetime
) -> None:
    """The decision's constraints into link_constraint; the item decided; a decision it re-decides superseded."""
    if item.kind == "invalidated" and item.decision_id:
        connection.execute(delete(link_constraint).where(link_constraint.c.reason.like(constraint_marker(item.decision_id) + "%")))
        connection.execute(
            update(review_decision).where(review_decision.c.id == item.decision_id).values(status="superseded", superseded_by=decision_id)
        )
    for kind, left, right in constraints:
        connection.execute(delete(link_constraint).where(and_(link_constraint.c.left_key == left, link_constraint.c.right_key == right)))
        connection.execute(
            insert(link_constraint).values(
                kind=kind,
                left_key=left,
                right_key=right,
                decided_by=decided_by,
                decided_at=now,
                reason=CONSTRAINT_REASON.format(id=decision_id, reason=reason),
            )
        )
    connection.execute(
        update(review_item).where(review_item.c.id == item.id).values(status="resolved", resolution="decided", resolved_at=now)
    )


def approve(
    engine: Engine, principal: Principal, decision_id: int, reason: str | None = None, *, now: dt.datetime | None = None
) -> DecisionCreated:
    """A different steward accepts a proposed decision; its proposer is NotAllowed."""
    return _review(engine, principal, decision_id, "accepted", reason, now or dt.datetime.now(dt.UTC))


def reject(
    engine: Engine, principal: Principal, decision_id: int, reason: str | None = None, *, now: dt.datetime | None = None
) -> DecisionCreated:
    """A different steward refuses a proposed decision; the item stays open."""
    return _review(engine, principal, decision_id, "rejected", reason, now or dt.datetime.now(dt.UTC))


def _review(
    engine: Engine, principal: Principal, decision_id: int, outcome: DecisionStatus, reason: str | None, now: dt.datetime
) -> DecisionCreated:
    require_steward(principal)
    with engine.begin() as connection:
        row = _visible_decision(connection, principal, decision_id)
        if row.status != "proposed":
            raise StateConflict(f"decision {decision_id} is {row.status}: only a proposed decision is approved or rejected")
        if row.decided_by == principal.subject:
            raise NotAllowed(f"decision {decision_id} was proposed by {principal.subject}: a different steward must approve or reject it")
        connection.execute(
            update(review_decision)
            .where(review_decision.c.id == decision_id)
            .values(status=outcome, reviewed_by=principal.subject, reviewed_at=now, review_reason=reason)
        )
        if outcome == "accepted":
            item = connection.execute(select(review_item).where(review_item.c.id == row.item_id)).one()
            _accept(connection, decision_id, row.decided_by, row.reason, json.loads(row.constraints), item, now)
        log_decision(connection, decision_id)  # the approval or rejection, in the tamper-evident log
    return DecisionCreated(id=decision_id, status=outcome, item_id=row.item_id)


def _visible_decision(connection: Connection, principal: Principal, decision_id: int) -> Any:
    row = connection.execute(select(review_decision).where(review_decision.c.id == decision_id)).first()
    if row is None:
        raise NotFound(f"no decision {decision_id}")
    try:
        visible_item(connection, principal, row.item_id)
    except NotFound:
        raise NotFound(f"no decision {decision_id} within your jurisdiction") from None
    return row


def list_decisions(
    engine: Engine, principal: Principal, status: DecisionStatus | None = None, *, limit: int = 50, offset: int = 0
) -> DecisionPage:
    """Decisions the caller may see, newest first."""
    require_reader(principal)
    conditions = [review_decision.c.status == status] if status else []
    if (jurisdiction := visible(principal)) is not None:
        conditions.append(jurisdiction)
    joined = review_decision.join(review_item, review_item.c.id == review_decision.c.item_id)
    query = select(review_decision).select_from(joined).where(*conditions).order_by(review_decision.c.id.desc())
    with engine.connect() as connection:
        rows = connection.execute(query.limit(max(1, min(limit, 500))).offset(max(0, offset))).all()
        total = connection.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
        return DecisionPage(items=[decision_view(connection, row) for row in rows], total=total)


def get_decision(engine: Engine, principal: Principal, decision_id: int) -> DecisionView:
    require_reader(principal)
    with engine.connect() as connection:
        return decision_view(connection, _visible_decision(connection, principal, decision_id))
