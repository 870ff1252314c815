"""Stewards' decisions: recorded with who, when, why and what was seen; four eyes on published masters;
accepted ones become link constraints that every later run honours."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.review.models import BatchDecisionRequest, DecisionCreated, DecisionPage, DecisionRequest, DecisionStatus, DecisionView


def decide(engine: Engine, principal: Principal, item_id: int, request: DecisionRequest,
           subscriptions: Mapping[str, Subscription] | None = None) -> DecisionCreated:
    """A steward's decision on one item: `accepted` at once, or `proposed` when it touches a published master."""
    raise NotImplementedError


def decide_many(engine: Engine, principal: Principal, request: BatchDecisionRequest,
                subscriptions: Mapping[str, Subscription] | None = None) -> list[DecisionCreated]:
    """The same decision and reason on several items, all or none."""
    raise NotImplementedError


def approve(engine: Engine, principal: Principal, decision_id: int, reason: str | None = None) -> DecisionCreated:
    """A different steward accepts a proposed decision; its proposer is NotAllowed."""
    raise NotImplementedError


def reject(engine: Engine, principal: Principal, decision_id: int, reason: str | None = None) -> DecisionCreated:
    """A different steward refuses a proposed decision; the item stays open."""
    raise NotImplementedError


def list_decisions(engine: Engine, principal: Principal, status: DecisionStatus | None = None, *, limit: int = 50,
                   offset: int = 0) -> DecisionPage:
    """Decisions the caller may see, newest first."""
    raise NotImplementedError


def get_decision(engine: Engine, principal: Principal, decision_id: int) -> DecisionView:
    raise NotImplementedError
