"""Who may do what in the workbench, and which items a caller may see.

Roles: `steward` decides; `steward`, `auditor` and `admin` read; anyone else (a subscriber's token) is refused.
Jurisdiction: a caller whose token names district prefixes sees an item only if every record of it lives within
them; a record with no district is seen only by callers without a jurisdiction. Checked in SQL, on the
item's rows in `review_item_record`, so paging and counting never load what the caller may not see.
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
    """SQL condition on `review_item`: every record of the item is within the caller's jurisdiction."""
    if principal.jurisdiction is None:
        return None
    return not_(exists(select(1).where(and_(review_item_record.c.item_id == review_item.c.id,
                                            outside(principal, review_item_record.c.district)))))


def can_see_all(principal: Principal, districts: list[str | None]) -> bool:
    return all(principal.covers(district) for district in districts)
