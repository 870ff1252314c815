"""Who may do what in the workbench, and which items a caller may see.

Roles: `steward` decides; `steward`, `auditor` and `admin` read; anyone else (a subscriber's token) is refused.
Jurisdiction: a caller whose token names district prefixes sees an item only if every record of it lives within
them; a record with no district is seen only by callers without a jurisdiction. Checked in SQL, on the item's
row (see `visible`), so paging and counting never load what the caller may not see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select

from mmi.principal import Principal
from mmi.review.errors import NotAllowed
from mmi.store.review_tables import review_item, review_item_record

READERS = frozenset({"steward", "auditor", "admin"})
DECIDERS = frozenset({"steward"})


def require_reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise NotAllowed(f"role {principal.role} may not read the review queue (stewards, auditors and admins may)")


def require_steward(principal: Principal) -> None:
    if principal.role not in DECIDERS:
        raise NotAllowed(f"role {principal.role} may read but not decide: decisions are a steward's")


def under(district: Any, prefix: str) -> ColumnElement[bool]:
    """SQL: the six-digit `district` column starts with `prefix`, as a range an index serves under any collation
    (PostgreSQL's LIKE 'p%' uses a plain index only under the C collation)."""
    return and_(district >= prefix.ljust(6, "0"), district <= prefix.ljust(6, "9"))


def outside(principal: Principal, district: Any) -> ColumnElement[bool]:
    """SQL: `district` (a column) is not within the caller's jurisdiction."""
    assert principal.jurisdiction is not None
    return or_(district.is_(None), not_(or_(*(under(district, prefix) for prefix in principal.jurisdiction))))


def visible(principal: Principal) -> ColumnElement[bool] | None:
    """SQL condition on `review_item`: every record of the item is within the caller's jurisdiction.

    Checked on the item's own row: its lowest and highest district both within the jurisdiction is exact for one
    prefix (a prefix is a contiguous range) and for items of two records; only a cluster spread over two of
    several prefixes needs its records looked at one by one."""
    if principal.jurisdiction is None:
        return None
    low, high = review_item.c.district_low, review_item.c.district_high
    ranges = principal.jurisdiction
    ends_within = and_(or_(*(under(low, prefix) for prefix in ranges)), or_(*(under(high, prefix) for prefix in ranges)))
    if len(ranges) == 1:
        return ends_within
    one_range = or_(*(and_(under(low, prefix), under(high, prefix)) for prefix in ranges))
    spread = not_(
        exists(select(1).where(review_item_record.c.item_id == review_item.c.id, outside(principal, review_item_record.c.district)))
    )
    return and_(ends_within, or_(review_item.c.record_count <= 2, one_range, spread))


def can_see_all(principal: Principal, districts: list[str | None]) -> bool:
    return all(principal.covers(district) for district in districts)
