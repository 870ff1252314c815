"""The stewards' workbench, JSON: the review queue, items, previews and decisions (the pages call the same service).

    GET  /v1/review/queue?limit=&offset=&kind=&district=&department=&band=   open items by priority
    GET  /v1/review/items/{id}                      the item: records, explanation, graph, decisions
    POST /v1/review/items/{id}/preview              what a decision would do (nothing is changed)
    POST /v1/review/items/{id}/decision             201 {"id", "status": "accepted" | "proposed"}
    POST /v1/review/decisions                       several items, one decision and reason (201, a list)
    GET  /v1/review/decisions?status=               decisions, newest first
    GET  /v1/review/decisions/{id}                  one decision, with the run that applied it and its events
    POST /v1/review/decisions/{id}/approve|reject   a second steward; the proposer gets 403

Roles (checked by mmi.review): `steward` decides; `steward`, `auditor`, `admin` read; others 403; no or bad token
401. A token's `jurisdiction` claim limits what it sees: an item outside it is 404, as if it did not exist.
Routes hold no logic: they parse, call one service function, and map its errors to statuses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mmi import review
from mmi.api.app import Caller, _context
from mmi.api.parameters import MAX_NAME, DistrictPrefix, Position, ReviewPageSize, RowId
from mmi.review.models import (
    BatchDecisionRequest,
    DecisionCreated,
    DecisionPage,
    DecisionRequest,
    DecisionStatus,
    DecisionView,
    ItemDetail,
    ItemKind,
    Preview,
    QueueFilters,
    QueuePage,
    ScoreBand,
)

STATUS = {review.NotFound: 404, review.NotAllowed: 403, review.InvalidDecision: 422, review.StateConflict: 409}

router = APIRouter(prefix="/v1/review", tags=["review"])
CONFLICT: dict[int | str, dict[str, str]] = {409: {"description": "the item or decision has moved on (decided, superseded)"}}


class Review(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="why the second steward approves or rejects")


def review_error(_request: Request, error: Exception) -> JSONResponse:
    """A service error as the status its family stands for, with its message as `detail`."""
    status = next((code for family, code in STATUS.items() if isinstance(error, family)), 400)
    return JSONResponse({"detail": str(error)}, status_code=status)


@router.get("/queue", response_model=QueuePage)
def get_queue(
    request: Request,
    principal: Caller,
    limit: ReviewPageSize = 50,
    offset: Position = 0,
    kind: ItemKind | None = None,
    district: DistrictPrefix = None,
    department: Annotated[str | None, Query(max_length=MAX_NAME)] = None,
    band: ScoreBand | None = None,
) -> QueuePage:
    filters = QueueFilters(kind=kind, district=district, department=department, band=band)
    return review.queue_page(_context(request).engine, principal, filters, limit=limit, offset=offset)


@router.get("/items/{item_id}", response_model=ItemDetail)
def get_item(request: Request, item_id: RowId, principal: Caller) -> ItemDetail:
    return review.item_detail(_context(request).engine, principal, item_id)


@router.post("/items/{item_id}/preview", response_model=Preview)
def preview(request: Request, item_id: RowId, decision: DecisionRequest, principal: Caller) -> Preview:
    context = _context(request)
    return review.preview_decision(context.engine, principal, item_id, decision, context.exchange.subscriptions)


@router.post("/items/{item_id}/decision", response_model=DecisionCreated, status_code=201, responses=CONFLICT)
def decide(request: Request, item_id: RowId, decision: DecisionRequest, principal: Caller) -> DecisionCreated:
    context = _context(request)
    return review.decide(context.engine, principal, item_id, decision, context.exchange.subscriptions)


@router.post("/decisions", response_model=list[DecisionCreated], status_code=201, responses=CONFLICT)
def decide_many(request: Request, decision: BatchDecisionRequest, principal: Caller) -> list[DecisionCreated]:
    context = _context(request)
    return review.decide_many(context.engine, principal, decision, context.exchange.subscriptions)


@router.get("/decisions", response_model=DecisionPage)
def get_decisions(
    request: Request,
    principal: Caller,
    status: DecisionStatus | None = None,
    limit: ReviewPageSize = 50,
    offset: Position = 0,
) -> DecisionPage:
    return review.list_decisions(_context(request).engine, principal, status, limit=limit, offset=offset)


@router.get("/decisions/{decision_id}", response_model=DecisionView)
def get_decision(request: Request, decision_id: RowId, principal: Caller) -> DecisionView:
    return review.get_decision(_context(request).engine, principal, decision_id)


@router.post("/decisions/{decision_id}/approve", response_model=DecisionCreated, responses=CONFLICT)
def approve(request: Request, decision_id: RowId, principal: Caller, body: Annotated[Review | None, Body()] = None) -> DecisionCreated:
    return review.approve(_context(request).engine, principal, decision_id, body.reason if body else None)


@router.post("/decisions/{decision_id}/reject", response_model=DecisionCreated, responses=CONFLICT)
def reject(request: Request, decision_id: RowId, principal: Caller, body: Annotated[Review | None, Body()] = None) -> DecisionCreated:
    return review.reject(_context(request).engine, principal, decision_id, body.reason if body else None)
