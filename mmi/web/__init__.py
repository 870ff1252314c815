"""The web pages of `mmi serve` (under /ui/): the stewards' workbench, the auditors' pages (/ui/audit/), the planners'
indicators and the worklists (/ui/indicators/).

    install(app, settings)     add the pages, their static files and their security headers to the API's app

Server-rendered (Jinja2), every asset served by the application (static/, vendored nothing from a CDN), one small
script of our own for the keyboard; a Content-Security-Policy without 'unsafe-inline' on every page (set on
every response of the application by mmi.api.headers). Sign-in,
sessions and CSRF: sessions.py, csrf.py, signin.py; who may see what: guard.py; languages: i18n.py.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mmi.config import Settings

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the pages from `app`, which already carries the API's context (engine, keys, token settings)."""
    from mmi.exchange.subscriptions import exchange_settings
    from mmi.web import audit_pages, indicator_pages, pages, signin
    from mmi.web.guard import WebContext
    from mmi.web.settings import web_settings

    api_context = app.state.context
    exchange = exchange_settings(settings)
    app.state.web = WebContext(
        api_context.engine,
        api_context.api,
        api_context.keys,
        web_settings(settings),
        dict(exchange.subscriptions),
        api_context.deny_list,
        api_context.read_terms_key,
        exchange.out_dir,
    )
    app.include_router(signin.router)
    app.include_router(pages.router)
    app.include_router(audit_pages.router)
    app.include_router(indicator_pages.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="static")
