"""The indicators and the service-gap worklists, JSON (the pages under /ui/indicators/ call the same service).

    GET /v1/indicators?as_of=&level=&area=          aggregates per area (planner inside its jurisdiction, admin)
    GET /v1/worklists/{indicator}?area=&as_of=      the unserved persons of an area (admin; a health subscriber
                                                    inside its subscription's jurisdiction)

Roles and jurisdictions are the service's (mmi.indicators.service): anyone else 403, no or bad token 401, a
parameter out of bounds 422. Routes parse, call one service function, and map its errors to statuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from mmi.api.app import Caller, _context
from mmi.indicators import service
from mmi.indicators.errors import IndicatorError, status_of
from mmi.indicators.models import IndicatorReport, Level, Worklist

router = APIRouter(tags=["indicators"])

AreaParameter = Annotated[
    str | None, Query(pattern=r"^([0-9]{1,6}|all)$", description="a district (6 digits), city (4) or province (2) code prefix, or all")
]
AsOf = Annotated[dt.date, Query(description=f"the date A (YYYY-MM-DD), {service.EARLIEST} to {service.LATEST}")]


def indicator_error(_request: Request, error: Exception) -> JSONResponse:
    """A service error as the status its family stands for, with its message as `detail`."""
    assert isinstance(error, IndicatorError)
    return JSONResponse({"detail": str(error)}, status_code=status_of(error))


@router.get("/v1/indicators", response_model=IndicatorReport)
def get_indicators(
    request: Request, principal: Caller, as_of: AsOf, level: Level | None = None, area: AreaParameter = None
) -> IndicatorReport:
    return service.indicator_report(_context(request).engine, principal, as_of=as_of, level=level, area=area)


@router.get("/v1/worklists/{indicator}", response_model=Worklist)
def get_worklist(
    request: Request,
    principal: Caller,
    indicator: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,47}$")],
    as_of: AsOf,
    area: AreaParameter = None,
) -> Worklist:
    context = _context(request)
    return service.worklist_report(context.engine, principal, context.exchange.subscriptions, indicator=indicator, area=area, as_of=as_of)
