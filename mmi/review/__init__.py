"""The stewards' workbench, service layer: the review queue, items and their explanations, decisions.

Every function takes the store's Engine and the caller's `Principal` (subject, role, jurisdiction) and returns
the models of mmi.review.models; the JSON API (mmi.api.review) and the pages (mmi.web) both call these and
nothing else, so the rules (roles, jurisdiction, four eyes) live here once.

    queue_page(engine, principal, filters, limit, offset) -> QueuePage      the queue, by priority
    item_detail(engine, principal, item_id) -> ItemDetail                   records, explanation, graph, decisions
    explain_pair(engine, left_key, right_key, model_version_id) -> Explanation   Splink's waterfall for a pair
    preview_decision(engine, principal, item_id, request, subscriptions) -> Preview
    decide(engine, principal, item_id, request, subscriptions) -> DecisionCreated
    decide_many(engine, principal, request, subscriptions) -> list[DecisionCreated]   several items, one reason
    approve(engine, principal, decision_id, reason) / reject(...) -> DecisionCreated  four eyes
    list_decisions(engine, principal, status, limit, offset) -> DecisionPage
    get_decision(engine, principal, decision_id) -> DecisionView
    refresh_queue(engine) -> RefreshReport                                  after each link run

Roles: `steward` decides; `steward`, `auditor` and `admin` read; anyone else gets NotAllowed.
"""

from mmi.principal import Principal
from mmi.review.decisions import approve, decide, decide_many, get_decision, list_decisions, reject
from mmi.review.errors import InvalidDecision, NotAllowed, NotFound, ReviewError, StateConflict
from mmi.review.explain import explain_pair
from mmi.review.items import item_detail
from mmi.review.models import (
    BatchDecisionRequest,
    ClusterGraph,
    DecisionCreated,
    DecisionPage,
    DecisionRequest,
    DecisionView,
    Explanation,
    ItemDetail,
    Preview,
    QueueFilters,
    QueueItem,
    QueuePage,
    RecordView,
    RefreshReport,
)
from mmi.review.preview import preview_decision
from mmi.review.queue import queue_page
from mmi.review.refresh import refresh_queue

__all__ = [
    "BatchDecisionRequest",
    "ClusterGraph",
    "DecisionCreated",
    "DecisionPage",
    "DecisionRequest",
    "DecisionView",
    "Explanation",
    "InvalidDecision",
    "ItemDetail",
    "NotAllowed",
    "NotFound",
    "Preview",
    "Principal",
    "QueueFilters",
    "QueueItem",
    "QueuePage",
    "RecordView",
    "RefreshReport",
    "ReviewError",
    "StateConflict",
    "approve",
    "decide",
    "decide_many",
    "explain_pair",
    "get_decision",
    "item_detail",
    "list_decisions",
    "preview_decision",
    "queue_page",
    "refresh_queue",
    "reject",
]
