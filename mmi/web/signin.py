"""Signing in and out, and the language switch: the only routes open without a session.

Two ways in: the one-time link `mmi login` prints (GET /ui/login?code=..., the code is spent at once and the
browser is sent on to a URL without it), or a bearer token from `mmi token` pasted into the sign-in form (checked
exactly as the API checks it, by mmi.api.auth.verify_token). Either way the browser gets a session cookie, never
the token. A subscriber token opens pages only for a health department's subscription (its worklists); the others
are for the change-set API alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated

import jwt
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from mmi.api.auth import Unauthorized, verify_token
from mmi.exchange.subscriptions import Subscription
from mmi.indicators.service import may_read_worklists
from mmi.principal import Principal
from mmi.web.guard import PLANNERS, PUBLIC, READERS, SESSION_COOKIE, SIGNED_IN, PageRoute, page, session_of, web_context
from mmi.web.i18n import COOKIE as LANGUAGE_COOKIE
from mmi.web.i18n import LANGUAGES
from mmi.web.rendering import delete_cookie, render, set_cookie
from mmi.web.sessions import NewSession, end_session, redeem_login_code, start_session

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path of these pages: a sign-in link must not send the browser to another site ("": none asked for)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def landing(principal: Principal) -> str:
    """Where a role starts: stewards and admins at the queue, auditors at their search, planners at the
    indicators, a health subscriber at its worklists."""
    if principal.role == "auditor":
        return "/ui/audit"
    if principal.role == "planner":
        return "/ui/indicators/"
    if principal.role == "subscriber":
        return "/ui/indicators/worklist"
    return "/ui/queue"


def has_pages(principal: Principal, subscriptions: Mapping[str, Subscription]) -> bool:
    """Whether a verified token's role opens any page (a subscriber's only if it is a health department's)."""
    return principal.role in READERS | PLANNERS or may_read_worklists(principal, subscriptions)


@router.get("/")
@page(PUBLIC)
def home(request: Request) -> Response:
    session = request.state.session
    return RedirectResponse(landing(session.principal) if session else "/ui/signin", status_code=303)


@router.get("/signin")
@page(PUBLIC)
def signin_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    return render(request, "signin.html", next=safe_next(next), problem=None)


@router.post("/signin")
@page(PUBLIC)
def signin_with_token(
    request: Request, token: Annotated[str, Form(max_length=8192)], next: Annotated[str | None, Form(max_length=2000)] = None
) -> Response:
    context = web_context(request)
    try:
        principal = verify_token(token.strip(), context.keys, context.api)
    except Unauthorized as error:
        return render(request, "signin.html", status=401, next=safe_next(next), problem=str(error))
    if context.deny_list.revoked(principal.token_id):
        return render(request, "signin.html", status=401, next=safe_next(next), problem="this token has been revoked: ask for a new one")
    if not has_pages(principal, context.subscriptions):
        return render(
            request,
            "signin.html",
            status=403,
            next=safe_next(next),
            problem=f"a {principal.role} token opens no page: use it with the JSON API",
        )
    expires = jwt.decode(token.strip(), options={"verify_signature": False})["exp"]  # verified just above
    new = start_session(context.engine, context.web, principal, "token", dt.datetime.fromtimestamp(expires, dt.UTC))
    return _signed_in(request, new, safe_next(next) or landing(principal))


@router.get("/login")
@page(PUBLIC)
def signin_with_link(request: Request, code: Annotated[str, Query(max_length=200)] = "") -> Response:
    context = web_context(request)
    principal: Principal | None = redeem_login_code(context.engine, code) if code else None
    if principal is None:
        return render(
            request,
            "signin.html",
            status=401,
            next="",
            problem="this sign-in link is unknown, used already or expired: run `mmi login` again",
        )
    return _signed_in(request, start_session(context.engine, context.web, principal, "link"), landing(principal))


def _signed_in(request: Request, new: NewSession, target: str) -> Response:
    """The new session's cookie replaces any older one, and that older session ends (one browser, one session)."""
    if previous := request.cookies.get(SESSION_COOKIE):
        end_session(web_context(request).engine, previous)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, new.cookie_value)
    return response


@router.post("/signout")
@page(SIGNED_IN)
def signout(request: Request) -> Response:
    session_of(request)  # the guard has checked there is one
    end_session(web_context(request).engine, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/ui/signin", status_code=303)
    delete_cookie(request, response, SESSION_COOKIE)
    return response


@router.post("/language")
@page(PUBLIC)
def choose_language(request: Request, lang: Annotated[str, Form()], next: Annotated[str | None, Form()] = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600)
    return response
