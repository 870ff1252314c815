"""The planners' pages: each indicator against its target by area, drill-down, trend, and the worklists.

    GET /ui/indicators/?area=&as_of=                  an area's figures and its children's (planner, admin)
    GET /ui/indicators/worklist                       a health subscriber's (or admin's) first worklist
    GET /ui/indicators/worklist/{indicator}?area=&as_of=   who in the area is owed the service (admin, health subscriber)

The drill-down runs province → city → district and, for those who may read names, on to the district's worklist.
A planner reads aggregates only: its pages never link to a worklist, and the worklist pages refuse it (the rule is
the service's, mmi.indicators.service, as in the JSON API). Every figure is drawn (server-side SVG, no script)
beside a table of the same numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from mmi.indicators import load_definitions, service
from mmi.indicators.predicates import unmet_parts
from mmi.web.charts import rate_chart, trend_chart
from mmi.web.guard import PLANNERS, WORKLIST_READERS, PageRoute, page, session_of, web_context
from mmi.web.i18n import Translator, request_language
from mmi.web.rendering import render

router = APIRouter(prefix="/ui/indicators", route_class=PageRoute, include_in_schema=False)

Area = Annotated[str | None, Query(pattern=r"^([0-9]{1,6}|all)?$")]
AsOf = Annotated[dt.date | None, Query()]


def _as_of(request: Request, as_of: dt.date | None) -> dt.date:
    """The date asked for; else the newest snapshot's; else today (China time is a day ahead of UTC at most)."""
    return as_of or service.latest_snapshot_date(web_context(request).engine) or dt.date.today()


@router.get("/")
@page(PLANNERS)
def overview(request: Request, area: Area = None, as_of: AsOf = None) -> Response:
    context, session = web_context(request), session_of(request)
    day = _as_of(request, as_of)
    view = service.area_view(context.engine, session.principal, as_of=day, area=area)
    definitions = load_definitions()
    return render(
        request,
        "indicators_overview.html",
        view=view,
        as_of=day,
        definitions=definitions,
        rate_charts={ind.id: rate_chart(view.children.get(ind.id, []), ind.target) for ind in definitions.indicators},
        trend_charts={ind.id: trend_chart(view.trends.get(ind.id, []), view.trend_dates, ind.target) for ind in definitions.indicators},
        worklist_ids={ind.id for ind in service.person_indicators(definitions)}
        if service.may_read_worklists(session.principal, context.subscriptions)
        else set(),
    )


@router.get("/worklist")
@page(WORKLIST_READERS)
def first_worklist(request: Request) -> Response:
    context, session = web_context(request), session_of(request)
    area = service.default_worklist_area(session.principal, context.subscriptions)
    first = service.person_indicators()[0].id
    return RedirectResponse(f"/ui/indicators/worklist/{first}?area={area}", status_code=303)


@router.get("/worklist/{indicator}")
@page(WORKLIST_READERS)
def worklist(request: Request, indicator: str, area: Area = None, as_of: AsOf = None) -> Response:
    context, session = web_context(request), session_of(request)
    day = _as_of(request, as_of)
    chosen = area or service.default_worklist_area(session.principal, context.subscriptions)
    result = service.worklist_report(context.engine, session.principal, context.subscriptions, indicator=indicator, area=chosen, as_of=day)
    return render(
        request,
        "indicators_worklist.html",
        worklist=result,
        missing=_missing(Translator(request_language(request)), indicator, day),
        indicators=service.person_indicators(),
        may_see_aggregates=session.principal.role in PLANNERS,
    )


def _missing(translator: Translator, indicator: str, as_of: dt.date) -> str:
    """What every person of the worklist lacks, in the page's language (the files and the API say it in English)."""
    parts = unmet_parts(load_definitions().indicator(indicator).served, as_of)
    return "; ".join(translator.t(f"unmet.{name}", **_named(translator, values)) for name, values in parts)


def _named(translator: Translator, values: dict[str, str]) -> dict[str, str]:
    """A predicate's parameters as its message shows them: a service type or a department by its name."""
    named = dict(values)
    if "service_type" in values:
        named["service"] = translator.t(f"service.{values['service_type']}")
    if "department" in values:
        named["department"] = translator.t(f"department.{values['department']}")
    return named
