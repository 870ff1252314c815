"""Rendering pages: one Jinja2 environment (autoescaped), the request's language, the form's CSRF token, cookies.

Every cookie the pages set is HttpOnly and SameSite=Strict, scoped to /ui (the JSON API never sees it, so it
cannot be ridden by a cross-site request to /v1), and Secure when served over TLS (or as [web] secure_cookies says).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mmi.web import csrf
from mmi.web.i18n import LANGUAGES, Translator, request_language

TEMPLATES = Path(__file__).with_name("templates")
environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    web = getattr(request.app.state, "web", None)
    configured = web.web.secure_cookies if web is not None else None
    secure = request.url.scheme == "https" if configured is None else configured
    response.set_cookie(name, value, max_age=max_age, path="/ui", httponly=True, samesite="strict", secure=secure)


def delete_cookie(request: Request, response: Response, name: str) -> None:
    set_cookie(request, response, name, "", max_age=0)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page, in the request's language, with what every page needs (who is signed in, the CSRF token)."""
    language = request_language(request)
    translator = Translator(language)
    session = getattr(request.state, "session", None)
    new_presession = None
    if session is not None:
        token = session.csrf_token
    else:
        token, is_new = csrf.presession_token(request)
        new_presession = token if is_new else None
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = environment.get_template(template).render(
        t=translator.t,
        has=translator.has,
        lang=language,
        languages=LANGUAGES,
        session=session,
        csrf_field=csrf.FIELD,
        csrf_token=token,
        here=here,
        shown=lambda value: _shown(translator, value),
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if new_presession:
        set_cookie(request, response, csrf.PRESESSION_COOKIE, new_presession)
    return response


def _shown(translator: Translator, value: Any) -> str:
    """A field's value as a page shows it: nothing as a dash, yes/no in the page's language."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return translator.t("value.yes" if value else "value.no")
    return str(value)


def render_error(request: Request, status: int, key: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title_key=key, detail=detail, status_code=status)
