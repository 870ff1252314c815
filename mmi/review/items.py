"""One review item in full: its records as written and standardised, the explanation, the graph, decisions."""

from __future__ import annotations

from sqlalchemy import Engine

from mmi.principal import Principal
from mmi.review.models import ItemDetail


def item_detail(engine: Engine, principal: Principal, item_id: int) -> ItemDetail:
    """The item, if the caller may see all its records; NotFound otherwise."""
    raise NotImplementedError
