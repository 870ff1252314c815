"""What a decision would do before it is made: masters kept, created, retired; subscribers that would hear."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.review.models import DecisionRequest, Preview


def preview_decision(engine: Engine, principal: Principal, item_id: int, request: DecisionRequest,
                     subscriptions: Mapping[str, Subscription] | None = None) -> Preview:
    """The decision's effect on the index, computed without changing anything."""
    raise NotImplementedError
