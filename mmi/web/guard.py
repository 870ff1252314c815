"""Who may reach each page, checked on the server in one place: the route class every page route uses.

Deny by default: a page route names the roles it admits (`@page(..., roles=READERS)`); one that names none
refuses everybody, and only the sign-in routes say `PUBLIC`. For every route the guard finds the session from
its cookie (none: to the sign-in page; a form post: 401), checks the role (403), and for every POST the CSRF
token. Errors of the review, provenance and indicators services become pages with the same statuses the JSON API gives.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from mmi import provenance
from mmi.api.auth import KeySet
from mmi.api.revocation import DenyList
from mmi.api.settings import ApiSettings
from mmi.exchange.subscriptions import Subscription
from mmi.indicators.errors import IndicatorError, status_of
from mmi.review.errors import InvalidDecision, NotAllowed, NotFound, StateConflict
from mmi.web import csrf
from mmi.web.rendering import render_error
from mmi.web.sessions import Session, load_session
from mmi.web.settings import WebSettings

SESSION_COOKIE = "mmi_session"
PUBLIC = frozenset({"*"})
READERS = frozenset({"steward", "auditor", "admin"})
STEWARDS = frozenset({"steward"})
AUDITORS = provenance.AUDITORS
_STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    NotAllowed: 403,
    InvalidDecision: 422,
    StateConflict: 409,
    provenance.NotFound: 404,
    provenance.NotAllowed: 403,
    provenance.InvalidQuery: 422,
}
_SERVICE_ERRORS = tuple(_STATUS)
PLANNERS = frozenset({"planner", "admin"})  # the indicator pages: aggregates only
WORKLIST_READERS = frozenset({"admin", "subscriber"})  # worklists name persons; mmi.indicators.service admits only health subscribers
SIGNED_IN = READERS | PLANNERS | WORKLIST_READERS  # every role that has a page


@dataclass(frozen=True)
class WebContext:
    engine: Engine
    api: ApiSettings
    keys: KeySet
    web: WebSettings
    subscriptions: dict[str, Subscription]
    deny_list: DenyList
    read_terms_key: bytes  # the API's (mmi.audit.read_terms)
    changesets_dir: Path  # where the change-set files are: disclosures read the fields they carried


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def session_of(request: Request) -> Session:
    """The signed-in session of a guarded page (set by the guard before the page runs)."""
    session: Session = request.state.session
    return session


def page(roles: frozenset[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a page endpoint with the roles it admits."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.roles = roles  # type: ignore[attr-defined]
        return endpoint

    return mark


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        roles: frozenset[str] | None = getattr(self.endpoint, "roles", None)

        async def guarded(request: Request) -> Response:
            try:
                refusal = await _admit(request, roles)
                return refusal if refusal is not None else await handler(request)
            except csrf.CsrfRefused as error:
                return render_error(request, 403, "error.csrf", str(error))
            except _SERVICE_ERRORS as error:
                status = next(code for kind, code in _STATUS.items() if isinstance(error, kind))
                return render_error(request, status, f"error.{status}", str(error))
            except IndicatorError as error:
                return render_error(request, status_of(error), f"error.{status_of(error)}", str(error))
            except ValidationError as error:  # a filter or form value the service's models refuse
                return render_error(request, 422, "error.422", _validation_message(error))

        return guarded


async def _admit(request: Request, roles: frozenset[str] | None) -> Response | None:
    """None when the request may go on; otherwise the response that refuses it."""
    if roles is None:
        return render_error(request, 403, "error.403", "this page admits no role")
    session = await run_in_threadpool(_session, request)
    request.state.session = session
    if session is not None and await run_in_threadpool(web_context(request).deny_list.revoked, session.principal.token_id):
        request.state.session = None
        return render_error(request, 401, "error.401", "the token this session was made from has been revoked: sign in again")
    if roles is not PUBLIC:
        if session is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/ui/signin?next={quote(target, safe='')}", status_code=303)
            return render_error(request, 401, "error.401", "sign in first")
        if session.principal.role not in roles:
            return render_error(request, 403, "error.403", f"role {session.principal.role} may not use this page")
    if request.method == "POST":
        form = await request.form()
        sent = form.get(csrf.FIELD)
        expected = session.csrf_token if session is not None else request.cookies.get(csrf.PRESESSION_COOKIE)
        csrf.check_token(request, sent if isinstance(sent, str) else None, expected)
    return None


def _session(request: Request) -> Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    context = web_context(request)
    return load_session(context.engine, context.web, cookie)


def _validation_message(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}" for problem in error.errors())
