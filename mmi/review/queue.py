"""The review queue as a steward pages through it: open items they may see, by priority, with filters."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select

from mmi.principal import Principal
from mmi.review.access import require_reader, under, visible
from mmi.review.models import PriorityFactor, QueueFilters, QueueItem, QueuePage
from mmi.review.refresh import refresh_queue
from mmi.store.review_tables import review_item, review_item_record

MAX_PAGE = 500
_LISTED = (
    review_item.c.id,
    review_item.c.kind,
    review_item.c.records,
    review_item.c.masters,
    review_item.c.match_probability,
    review_item.c.priority,
    review_item.c.reason,
    review_item.c.factors,
    review_item.c.decision_id,
)


def queue_page(engine: Engine, principal: Principal, filters: QueueFilters | None = None, *, limit: int = 50, offset: int = 0) -> QueuePage:
    """Open items the caller may see (its jurisdiction), by priority, highest first."""
    require_reader(principal)
    conditions = _conditions(principal, filters or QueueFilters())
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    # The page's IDs first, from the (status, priority, id) index alone, then their rows: a deep page skips index
    # entries, not wide rows. Ties in priority go newest first, so the whole order is the index's, read backwards.
    page = (
        select(review_item.c.id)
        .where(*conditions)
        .order_by(review_item.c.priority.desc(), review_item.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        ids = list(connection.execute(page).scalars())
        rows = sorted(connection.execute(select(*_LISTED).where(review_item.c.id.in_(ids))).all(), key=lambda row: (-row.priority, -row.id))
        total = connection.execute(select(func.count()).select_from(review_item).where(*conditions)).scalar_one()
        places = _places(connection, ids)
    return QueuePage(items=[_item(row._asdict(), places.get(row.id, [])) for row in rows], total=total)


def _conditions(principal: Principal, filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [review_item.c.status == "open"]
    if filters.kind:
        conditions.append(review_item.c.kind == filters.kind)
    if filters.band:
        conditions.append(review_item.c.band == filters.band)
    # Filters on the items' records as sets of item IDs, found on their own indexes (district, department).
    records = review_item_record.c
    if filters.district:
        conditions.append(review_item.c.id.in_(select(records.item_id).where(under(records.district, filters.district))))
    if filters.department:
        conditions.append(review_item.c.departments.contains(f",{filters.department},", autoescape=True))
    if (jurisdiction := visible(principal)) is not None:
        conditions.append(jurisdiction)
    return conditions


def _places(connection: Any, item_ids: list[int]) -> dict[int, list[tuple[str, str | None]]]:
    if not item_ids:
        return {}
    places: dict[int, list[tuple[str, str | None]]] = {}
    query = select(review_item_record.c.item_id, review_item_record.c.department, review_item_record.c.district).where(
        review_item_record.c.item_id.in_(item_ids)
    )
    for item_id, department, district in connection.execute(query):
        places.setdefault(item_id, []).append((department, district))
    return places


def _item(row: dict[str, Any], places: list[tuple[str, str | None]]) -> QueueItem:
    return QueueItem(
        id=row["id"],
        kind=row["kind"],
        records=json.loads(row["records"]),
        masters=json.loads(row["masters"]),
        match_probability=row["match_probability"],
        priority=row["priority"],
        reason=row["reason"],
        factors=[PriorityFactor(**factor) for factor in json.loads(row["factors"])],
        decision_id=row["decision_id"],
        departments=sorted({department for department, _ in places}),
        districts=sorted({d for _, d in places if d}),
    )


__all__ = ["queue_page", "refresh_queue"]  # refresh_queue: see mmi.review.refresh
