"""The stewards' pages: the queue, an item, the decisions awaiting a second steward.

Each page calls the review service (mmi.review) exactly as the JSON API does and renders what it returns; the
rules (roles, jurisdiction, four eyes) are the service's. Positions in the queue travel as `pos` (with the queue's
filters), so j/k and "next item after a decision" follow the queue's own order: a decided item leaves the queue,
and the item now at the same position is the next one.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mmi import review
from mmi.api.parameters import MAX_ID, MAX_NAME, OptionalPosition, Position, RowId
from mmi.review.models import BatchDecisionRequest, DecisionRequest, DecisionStatus, ItemDetail, Preview, QueueFilters
from mmi.web.charts import cluster_drawing, waterfall
from mmi.web.guard import READERS, STEWARDS, PageRoute, page, session_of, web_context
from mmi.web.rendering import render, render_error

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
STATUSES: tuple[DecisionStatus, ...] = ("proposed", "accepted", "rejected", "superseded")


def _filters(kind: str | None, district: str | None, department: str | None, band: str | None) -> QueueFilters:
    values = {"kind": kind or None, "district": district or None, "department": department or None, "band": band or None}
    return QueueFilters.model_validate(values)


def _query(filters: QueueFilters, **more: Any) -> str:
    values = {**filters.model_dump(exclude_none=True), **{key: value for key, value in more.items() if value is not None}}
    return urlencode(values)


# Filters are checked by QueueFilters (a 422 page naming the filter); the length bound keeps a huge one out.
Kind = Annotated[str | None, Query(max_length=MAX_NAME)]
District = Annotated[str | None, Query(max_length=MAX_NAME)]
Department = Annotated[str | None, Query(max_length=MAX_NAME)]
Band = Annotated[str | None, Query(max_length=MAX_NAME)]


@router.get("/queue")
@page(READERS)
def queue(
    request: Request,
    kind: Kind = None,
    district: District = None,
    department: Department = None,
    band: Band = None,
    offset: Position = 0,
    decided: OptionalPosition = None,
) -> Response:
    filters = _filters(kind, district, department, band)
    context, session = web_context(request), session_of(request)
    result = review.queue_page(context.engine, session.principal, filters, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "queue.html",
        page=result,
        filters=filters,
        offset=offset,
        page_size=PAGE_SIZE,
        filter_query=_query(filters),
        notice=_notice(request, decided),
        query_of=lambda **more: _query(filters, **more),
    )


@router.get("/queue/at")
@page(READERS)
def queue_at(
    request: Request,
    pos: Position = 0,
    kind: Kind = None,
    district: District = None,
    department: Department = None,
    band: Band = None,
    decided: OptionalPosition = None,
) -> Response:
    """The item at position `pos` of the (filtered) queue; the queue itself when it has none there."""
    filters = _filters(kind, district, department, band)
    context, session = web_context(request), session_of(request)
    result = review.queue_page(context.engine, session.principal, filters, limit=1, offset=pos)
    if not result.items:
        return RedirectResponse(f"/ui/queue?{_query(filters, decided=decided)}", status_code=303)
    return RedirectResponse(f"/ui/items/{result.items[0].id}?{_query(filters, pos=pos, decided=decided)}", status_code=303)


@router.get("/items/{item_id}")
@page(READERS)
def item(
    request: Request,
    item_id: RowId,
    pos: OptionalPosition = None,
    kind: Kind = None,
    district: District = None,
    department: Department = None,
    band: Band = None,
    decided: OptionalPosition = None,
) -> Response:
    return _item_page(request, item_id, pos, _filters(kind, district, department, band), decided, None)


@router.post("/items/{item_id}/preview")
@page(READERS)
async def preview_split(request: Request, item_id: RowId) -> Response:
    """The item page again, with what the split chosen in its form would do (nothing is decided)."""
    form = await request.form()
    fields = {key: str(value) for key, value in form.multi_items()}
    filters = _filters(fields.get("kind"), fields.get("district"), fields.get("department"), fields.get("band"))
    split = _decision_request({**fields, "reason": "preview"}, form.getlist("record_key"))
    pos = int(fields["pos"]) if fields.get("pos", "").isdigit() and int(fields["pos"]) <= MAX_ID else None
    return await run_in_threadpool(_item_page, request, item_id, pos, filters, None, split)


def _item_page(
    request: Request, item_id: int, pos: int | None, filters: QueueFilters, decided: int | None, split: DecisionRequest | None
) -> Response:
    context, session = web_context(request), session_of(request)
    detail = review.item_detail(context.engine, session.principal, item_id)
    chosen = {key: str(number) for number, group in enumerate(split.groups or [], start=1) for key in group} if split else {}
    return render(
        request,
        "item.html",
        item=detail,
        pos=pos,
        filters=filters,
        filter_query=_query(filters),
        query_of=lambda **more: _query(filters, **more),
        notice=_notice(request, decided),
        fields=_field_names(detail),
        differing={name for record in detail.records for name in record.differing},
        previews=_previews(request, detail, split),
        chosen_groups=chosen,
        chosen_record=split.record if split else None,
        split_mode="record" if split and split.record else "groups",
        chart=waterfall(detail.explanation) if detail.explanation else None,
        drawing=cluster_drawing(detail.graph) if detail.graph else None,
    )


def _field_names(detail: ItemDetail) -> list[str]:
    """The canonical fields at least one of the item's records has (a field no record has would be a row of dashes)."""
    names: list[str] = []
    for record in detail.records:
        names += [name for name in record.fields if name not in names]
    return [name for name in names if any(record.fields.get(name) not in (None, "") for record in detail.records)]


def _grouped(chosen: dict[str, str | None]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for key, group in chosen.items():
        groups.setdefault(group or "1", []).append(key)
    return [groups[name] for name in sorted(groups)]


def _previews(request: Request, detail: ItemDetail, split: DecisionRequest | None) -> dict[str, Preview]:
    """What each decision open to the item would do (a decision the item does not take is left out)."""
    context, session = web_context(request), session_of(request)
    asked: dict[str, DecisionRequest] = {}
    if detail.graph is None:
        asked = {name: DecisionRequest(decision=name, reason="preview") for name in ("match", "not_match")}  # type: ignore[arg-type]
    elif split is not None:
        asked = {"split": split}
    previews = {}
    for name, request_model in asked.items():
        try:
            previews[name] = review.preview_decision(context.engine, session.principal, detail.id, request_model, context.subscriptions)
        except review.InvalidDecision:
            continue
    return previews


def _notice(request: Request, decision_id: int | None) -> review.DecisionView | None:
    if decision_id is None:
        return None
    context, session = web_context(request), session_of(request)
    try:
        return review.get_decision(context.engine, session.principal, decision_id)
    except (review.NotFound, review.NotAllowed):
        return None


@router.post("/items/{item_id}/decision")
@page(STEWARDS)
async def decide(request: Request, item_id: RowId) -> Response:
    form = await request.form()
    fields = {key: str(value) for key, value in form.multi_items()}
    filters = _filters(fields.get("kind"), fields.get("district"), fields.get("department"), fields.get("band"))
    try:
        decision = _decision_request(fields, form.getlist("record_key"))
    except (ValidationError, ValueError) as error:
        return render_error(request, 422, "error.422", str(error))
    context, session = web_context(request), session_of(request)
    created = await run_in_threadpool(review.decide, context.engine, session.principal, item_id, decision, context.subscriptions)
    pos = fields.get("pos")
    if pos and pos.isdigit():
        return RedirectResponse(f"/ui/queue/at?{_query(filters, pos=int(pos), decided=created.id)}", status_code=303)
    return RedirectResponse(f"/ui/items/{item_id}?{_query(filters, decided=created.id)}", status_code=303)


def _decision_request(fields: dict[str, str], record_keys: list[Any]) -> DecisionRequest:
    decision, reason = fields.get("decision", ""), fields.get("reason", "").strip()
    if decision != "split":
        return DecisionRequest.model_validate({"decision": decision, "reason": reason})
    if fields.get("split_mode") == "record":
        return DecisionRequest(decision="split", reason=reason, record=fields.get("record") or None)
    chosen = {str(key): fields.get(f"group:{key}") for key in record_keys}
    return DecisionRequest(decision="split", reason=reason, groups=_grouped(chosen))


@router.post("/queue/decide")
@page(STEWARDS)
def decide_many(
    request: Request, decision: Annotated[str, Form()], reason: Annotated[str, Form()], item: Annotated[list[int], Form()]
) -> Response:
    context, session = web_context(request), session_of(request)
    try:
        batch = BatchDecisionRequest.model_validate({"decision": decision, "reason": reason.strip(), "items": item})
    except ValidationError as error:
        return render_error(request, 422, "error.422", str(error))
    created = review.decide_many(context.engine, session.principal, batch, context.subscriptions)
    return RedirectResponse(f"/ui/queue?decided={created[0].id}" if created else "/ui/queue", status_code=303)


@router.get("/decisions")
@page(READERS)
def decisions(
    request: Request,
    status: Annotated[str, Query(max_length=MAX_NAME)] = "proposed",
    offset: Position = 0,
    done: OptionalPosition = None,
) -> Response:
    chosen: DecisionStatus = status if status in STATUSES else "proposed"  # type: ignore[assignment]
    context, session = web_context(request), session_of(request)
    result = review.list_decisions(context.engine, session.principal, chosen, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "decisions.html",
        page=result,
        chosen_status=chosen,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
        notice=_notice(request, done),
    )


@router.post("/decisions/{decision_id}/approve")
@page(STEWARDS)
def approve(request: Request, decision_id: RowId, reason: Annotated[str, Form()] = "") -> Response:
    context, session = web_context(request), session_of(request)
    review.approve(context.engine, session.principal, decision_id, reason.strip() or None)
    return RedirectResponse(f"/ui/decisions?status=proposed&done={decision_id}", status_code=303)


@router.post("/decisions/{decision_id}/reject")
@page(STEWARDS)
def reject(request: Request, decision_id: RowId, reason: Annotated[str, Form()] = "") -> Response:
    context, session = web_context(request), session_of(request)
    review.reject(context.engine, session.principal, decision_id, reason.strip() or None)
    return RedirectResponse(f"/ui/decisions?status=proposed&done={decision_id}", status_code=303)
