"""The delivery API: change sets for subscribers, behind JWT bearer tokens.

    GET  /v1/changesets?after=N        the caller's change sets numbered above N (default: above its acknowledged one)
    GET  /v1/changesets/{seq}          one change set: the Avro file (application/avro); any one, again and again
    POST /v1/changesets/{seq}/ack      acknowledge everything up to seq (the position never moves back)
    GET  /v1/audit/...                 the audit log's checkpoint and proofs (mmi.api.audit_log)

Roles: a `subscriber` token reaches only the subscription its `sub` names; `auditor` and `admin` name one with
`?subscriber=NAME` (auditors read, admins also acknowledge); `steward` tokens have no business here (403).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from sqlalchemy import Engine

from mmi.api import audit_log
from mmi.api.auth import Principal
from mmi.api.dependencies import Caller, caller, context_of, make_context
from mmi.api.headers import install_security_headers
from mmi.api.models import Acknowledgement, ChangesetItem, ChangesetList, Health, Position
from mmi.api.parameters import MAX_NAME, ChangesetSeq, OptionalSeq, PageSize
from mmi.api.responses import install_error_responses
from mmi.api.settings import api_settings
from mmi.config import Settings
from mmi.exchange import deliveries
from mmi.exchange.subscriptions import exchange_settings

AVRO = "application/avro"
# The dependencies are mmi.api.dependencies'; their old names here stay for the routers that import them.
_context = context_of
_principal = caller


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    api = api_settings(settings)
    app = _application()
    from mmi.audit.checkpoints import audit_settings
    from mmi.audit.read_terms import read_terms_key

    terms_key = read_terms_key(audit_settings(settings).read_terms_key)
    app.state.context = make_context(engine, api, exchange_settings(settings), terms_key)
    from mmi.web import install as install_pages  # the pages under /ui/ share the context (mmi.web)

    install_pages(app, settings)
    return app


def _application() -> FastAPI:
    from mmi.api import indicators, provenance, review  # they build on this module's dependencies
    from mmi.indicators.errors import IndicatorError
    from mmi.review import ReviewError

    app = FastAPI(
        title="Master Migrant Index: change-set exchange and stewards' workbench",
        version="1",
        description="Avro change sets of the master migrant index, per subscriber (schemas: schemas/changeset/); "
        "the stewards' review queue and decisions under /v1/review.",
        # Swagger UI and ReDoc need inline scripts and a CDN, which the content security policy refuses: the
        # document is at /openapi.json (and in schemas/api/openapi.json).
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(router)
    app.include_router(review.router)
    app.add_exception_handler(ReviewError, review.review_error)
    app.include_router(audit_log.router)
    app.include_router(provenance.router)
    app.include_router(indicators.router)
    app.add_exception_handler(IndicatorError, indicators.indicator_error)
    install_error_responses(app)
    install_security_headers(app)
    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, as kept in schemas/api/openapi.json (`python -m mmi.api.openapi` prints it)."""
    return _application().openapi()


def _subscriber(request: Request, principal: Principal, asked: str | None, acknowledging: bool = False) -> str:
    """The subscription the caller may reach with this request; 403 or 404 otherwise."""
    subscriptions = _context(request).exchange.subscriptions
    if principal.role == "subscriber":
        if asked is not None and asked != principal.subject:
            raise HTTPException(403, f"a subscriber token for {principal.subject} reaches only its own change sets")
        if principal.subject not in subscriptions:
            raise HTTPException(403, f"{principal.subject} is not a configured subscription")
        return principal.subject
    if principal.role not in ("auditor", "admin") or (acknowledging and principal.role != "admin"):
        raise HTTPException(403, f"role {principal.role} may not do this")
    if asked is None:
        raise HTTPException(400, "name the subscription: ?subscriber=NAME")
    if asked not in subscriptions:
        raise HTTPException(404, f"no subscription {asked}")
    return asked


SubscriberParameter = Annotated[
    str | None, Query(min_length=1, max_length=MAX_NAME, description="auditor and admin tokens: the subscription to read")
]


def _item(row: dict[str, Any]) -> ChangesetItem:
    fields = {name: row[name] for name in ChangesetItem.model_fields if name != "href"}
    return ChangesetItem(**fields, href=f"/v1/changesets/{row['seq']}")


router = APIRouter()


@router.get("/v1/health", response_model=Health)
def health() -> Health:
    return Health(status="ok")


@router.get("/v1/changesets", response_model=ChangesetList)
def list_changesets(
    request: Request,
    principal: Caller,
    subscriber: SubscriberParameter = None,
    after: Annotated[OptionalSeq, Query(description="default: the acknowledged position")] = None,
    limit: PageSize = 100,
) -> ChangesetList:
    name = _subscriber(request, principal, subscriber)
    engine = _context(request).engine
    position = deliveries.acknowledged(engine, name)
    rows = deliveries.list_changesets(engine, name, position["seq"] if after is None else after, limit)
    return ChangesetList(
        subscriber=name, acknowledged=Position(**position), latest=deliveries.latest_seq(engine, name), items=[_item(row) for row in rows]
    )


@router.get("/v1/changesets/{seq}", response_class=Response, responses={200: {"content": {AVRO: {}}, "description": "The Avro file"}})
def get_changeset(request: Request, seq: ChangesetSeq, principal: Caller, subscriber: SubscriberParameter = None) -> Response:
    name = _subscriber(request, principal, subscriber)
    context = _context(request)
    try:
        row, content = deliveries.read_changeset(context.engine, context.exchange.out_dir, name, seq)
    except deliveries.ChangesetNotFound as error:
        raise HTTPException(404, str(error)) from None
    except deliveries.ChangesetCorrupt as error:
        raise HTTPException(500, str(error)) from None
    deliveries.record_download(context.engine, name, seq, principal.subject, principal.role)
    headers = {
        "ETag": f'"{row["sha256"]}"',
        "X-MMI-Subscriber": name,
        "X-MMI-Sequence": str(seq),
        "X-MMI-Events": str(row["events"]),
        "Content-Disposition": f'attachment; filename="{name}-{seq:08d}.avro"',
    }
    return Response(content, media_type=AVRO, headers=headers)


@router.post("/v1/changesets/{seq}/ack", response_model=Acknowledgement)
def acknowledge(request: Request, seq: ChangesetSeq, principal: Caller, subscriber: SubscriberParameter = None) -> Acknowledgement:
    name = _subscriber(request, principal, subscriber, acknowledging=True)
    try:
        position = deliveries.acknowledge(_context(request).engine, name, seq, principal.subject)
    except deliveries.ChangesetNotFound as error:
        raise HTTPException(404, str(error)) from None
    return Acknowledgement(subscriber=name, acknowledged=Position(**position))
