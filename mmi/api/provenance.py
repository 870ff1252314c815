"""Provenance for auditors, JSON: a master's golden record and where each value came from, a source version's raw
payload, the accounting of disclosures, search, and the auditors' own reads (the pages call the same service).

    GET /v1/masters/{master_id}[?as_of=ISO-8601]                      the golden record now, or as it was then
    GET /v1/records/{department}/{source_key}/versions/{version}     the version as delivered, its origin, standardised
    GET /v1/disclosures?master_id= | department=&source_key= | id_number=   who received which fields, who downloaded
    GET /v1/search?kind=id_number|name|master_id|record_key&q=       masters found (at most 50)
    GET /v1/audit/reads?limit=                                       the auditors' recent reads, newest first

Roles (checked by mmi.provenance): `auditor` and `admin`; others 403; no or bad token 401; a master or record
outside a token's jurisdiction is 404. Every read of a person is recorded (mmi.provenance.reads). Routes hold no
logic: they parse, call one service function, and map its errors to statuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request

from mmi import provenance
from mmi.api.app import Caller, _context
from mmi.provenance.models import Disclosures, MasterView, ReadPage, RecordVersionView, SearchKind, SearchResult

router = APIRouter(tags=["provenance"])
STATUS = {provenance.NotFound: 404, provenance.NotAllowed: 403, provenance.InvalidQuery: 422}
MAX_VERSION = 2**31 - 1
Text = Annotated[str, Path(min_length=1, max_length=100)]
Answer = TypeVar("Answer")


def _answer(call: Callable[[], Answer]) -> Answer:
    """The service's answer, or its error as the status its family stands for."""
    try:
        return call()
    except provenance.ProvenanceError as error:
        status = next((code for family, code in STATUS.items() if isinstance(error, family)), 400)
        raise HTTPException(status, str(error)) from None


@router.get("/v1/masters/{master_id}", response_model=MasterView)
def get_master(
    request: Request,
    principal: Caller,
    master_id: Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")],
    as_of: Annotated[dt.datetime | None, Query(description="ISO-8601; without a zone, UTC")] = None,
) -> MasterView:
    return _answer(lambda: provenance.master(_context(request).engine, principal, master_id, as_of))


@router.get("/v1/records/{department}/{source_key}/versions/{version}", response_model=RecordVersionView)
def get_record_version(
    request: Request, principal: Caller, department: Text, source_key: Text, version: Annotated[int, Path(ge=1, le=MAX_VERSION)]
) -> RecordVersionView:
    return _answer(lambda: provenance.record(_context(request).engine, principal, department, source_key, version))


Bounded = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.get("/v1/disclosures", response_model=Disclosures)
def get_disclosures(
    request: Request,
    principal: Caller,
    master_id: Bounded = None,
    department: Bounded = None,
    source_key: Bounded = None,
    id_number: Annotated[str | None, Query(min_length=15, max_length=18, pattern=r"^[0-9]{15}([0-9]{2}[0-9Xx])?$")] = None,
) -> Disclosures:
    context = _context(request)
    return _answer(
        lambda: provenance.disclosures(
            context.engine,
            principal,
            context.exchange.subscriptions,
            context.exchange.out_dir,
            context.read_terms_key,
            master_id=master_id,
            department=department,
            source_key=source_key,
            id_number=id_number,
        )
    )


@router.get("/v1/search", response_model=SearchResult)
def get_search(
    request: Request, principal: Caller, kind: SearchKind, q: Annotated[str, Query(min_length=1, max_length=100)]
) -> SearchResult:
    context = _context(request)
    return _answer(lambda: provenance.search(context.engine, principal, kind, q, context.read_terms_key))


@router.get("/v1/audit/reads", response_model=ReadPage)
def get_reads(request: Request, principal: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> ReadPage:
    return _answer(lambda: provenance.reads(_context(request).engine, principal, limit))
