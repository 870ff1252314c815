"""One review item in full: its records as written and standardised, the explanation, the graph, decisions.

An item the caller may not see (a record outside their jurisdiction) is reported as not found, so that its
existence does not leak either. The explanation is Splink's waterfall (mmi.review.explain), kept on the item by
the refresh (or the first time it is shown); the refresh clears it when the pair's score, records or model
version change.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from mmi.principal import Principal
from mmi.review.access import can_see_all, require_reader
from mmi.review.errors import NotFound
from mmi.review.explain import explain_pairs
from mmi.review.graph import cluster_graph
from mmi.review.models import Explanation, ItemDetail, PriorityFactor
from mmi.review.priority import delivered_to
from mmi.review.records import record_views
from mmi.review.views import decision_view
from mmi.store.index_tables import link_conflict, linkage_run, master_xref
from mmi.store.review_tables import review_decision, review_explanation, review_item, review_item_record


def item_detail(engine: Engine, principal: Principal, item_id: int) -> ItemDetail:
    """The item, if the caller may see all its records; NotFound otherwise."""
    require_reader(principal)
    with engine.connect() as connection:
        row = visible_item(connection, principal, item_id)
        explanation = _cached_explanation(row)
    if explanation is None and row.left_key and row.right_key:  # not explained at the refresh (an item older than it)
        explanation = item_explanation(engine, row)
        if explanation is not None:
            with engine.begin() as connection:
                connection.execute(delete(review_explanation).where(review_explanation.c.item_id == item_id))
                connection.execute(insert(review_explanation).values(item_id=item_id, explanation=explanation.model_dump_json()))
    with engine.connect() as connection:
        return _detail(connection, row, explanation)


def visible_item(connection: Connection, principal: Principal, item_id: int) -> Any:
    """The item's row; NotFound if there is none or the caller may not see one of its records."""
    explained = review_item.outerjoin(review_explanation, review_explanation.c.item_id == review_item.c.id)
    row = connection.execute(
        select(review_item, review_explanation.c.explanation).select_from(explained).where(review_item.c.id == item_id)
    ).first()
    if row is not None:
        districts = connection.execute(select(review_item_record.c.district).where(review_item_record.c.item_id == item_id)).scalars().all()
        if can_see_all(principal, list(districts)):
            return row
    raise NotFound(f"no review item {item_id} within your jurisdiction")


def _cached_explanation(row: Any) -> Explanation | None:
    return Explanation.model_validate_json(row.explanation) if row.explanation else None


def item_explanation(engine: Engine, row: Any) -> Explanation | None:
    """What the item page shows as the explanation (cached or computed now); None for clusters."""
    if (cached := _cached_explanation(row)) is not None:
        return cached
    if not (row.left_key and row.right_key):
        return None
    found = explain_pairs(engine, [(row.left_key, row.right_key)], row.model_version_id)
    return found.get((row.left_key, row.right_key))  # None: a record was withdrawn since


def item_records(connection: Connection, row: Any) -> list[str]:
    """The records an item is about: a cluster's current members (what a split groups), or the item's own."""
    records: list[str] = json.loads(row.records)
    if row.kind == "cluster" and row.master_id:
        members = connection.execute(
            select(master_xref.c.department, master_xref.c.source_key).where(master_xref.c.master_id == row.master_id)
        ).all()
        return sorted(f"{department}|{key}" for department, key in members) or records
    return records


def _detail(connection: Connection, row: Any, explanation: Explanation | None) -> ItemDetail:
    masters: list[str] = json.loads(row.masters)
    reached = delivered_to(connection, masters)
    records = item_records(connection, row)
    decisions = connection.execute(
        select(review_decision).where(review_decision.c.item_id == row.id).order_by(review_decision.c.id.desc())
    ).all()
    return ItemDetail(
        id=row.id,
        kind=row.kind,
        status=row.status,
        records=record_views(connection, records),
        masters=masters,
        match_probability=row.match_probability,
        priority=row.priority,
        reason=row.reason,
        factors=[PriorityFactor(**factor) for factor in json.loads(row.factors)],
        decision_id=row.decision_id,
        explanation=explanation,
        published_to=sorted(set().union(*reached.values())) if reached else [],
        graph=cluster_graph(connection, row.master_id, records, _match_threshold(connection)) if row.kind == "cluster" else None,
        conflict=_conflict(connection, row) if row.kind == "conflict" else None,
        decisions=[decision_view(connection, decision) for decision in decisions],
    )


def _match_threshold(connection: Connection) -> float:
    threshold = connection.execute(
        select(linkage_run.c.match_threshold).where(linkage_run.c.status == "done").order_by(linkage_run.c.id.desc()).limit(1)
    ).scalar()
    return float(threshold) if threshold is not None else 1.0


def _conflict(connection: Connection, row: Any) -> dict[str, Any] | None:
    found = connection.execute(
        select(link_conflict).where(link_conflict.c.left_key == row.left_key, link_conflict.c.right_key == row.right_key)
    ).first()
    if found is None:
        return None
    return {
        name: found._mapping[name]
        for name in ("rule", "detail", "conflicting_left_key", "conflicting_right_key", "left_master_id", "right_master_id", "run_id")
    }
