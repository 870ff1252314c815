"""Every page route checks the role on the server (deny by default), every form post its CSRF token, and every
page is served with a CSP that allows no inline script or style."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from mmi.api import create_app
from mmi.web.guard import AUDITORS, PLANNERS, PUBLIC, READERS, SIGNED_IN, STEWARDS, WORKLIST_READERS, PageRoute
from tests.mmi.web.server import Served, csrf_of, web_config

PUBLIC_ROUTES = {("GET", "/ui/"), ("GET", "/ui/signin"), ("POST", "/ui/signin"), ("GET", "/ui/login"), ("POST", "/ui/language")}


def _page_routes(tmp_path: Path) -> list[tuple[str, str, frozenset[str] | None]]:
    from mmi.api import api_settings, create_keys
    from mmi.store.database import open_store

    settings = web_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    create_keys(api_settings(settings))
    app = create_app(settings, open_store(settings.store_url))
    return [
        (method, route.path, getattr(route.endpoint, "roles", None))
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/ui")
        for method in sorted(route.methods)
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_page_route_names_its_roles_and_only_sign_in_is_public(tmp_path: Path) -> None:
    routes = _page_routes(tmp_path)
    assert len(routes) >= 12
    assert all(roles is not None for _method, _path, roles in routes)
    assert {(method, path) for method, path, roles in routes if roles is PUBLIC} == PUBLIC_ROUTES
    deciding = {(method, path) for method, path, roles in routes if roles == STEWARDS}
    assert ("POST", "/ui/items/{item_id}/decision") in deciding and ("POST", "/ui/decisions/{decision_id}/approve") in deciding


def test_without_a_session_every_guarded_route_refuses(served: Served, tmp_path: Path) -> None:
    with served.client() as browser:
        for method, path, roles in _page_routes(tmp_path / "routes"):
            if roles is PUBLIC:
                continue
            response = browser.request(method, _concrete(path), data={"csrf_token": "x"})
            expected = 303 if method == "GET" else 401
            assert response.status_code == expected, (method, path, response.status_code)
            if method == "GET":
                assert response.headers["location"].startswith("/ui/signin?next=")


def test_every_role_gets_403_where_it_is_not_admitted_and_readers_cannot_decide(served: Served, tmp_path: Path) -> None:
    sessions = {
        "subscriber": served.signed_in("subscriber", "guangdong-police"),  # not a health department: sign-in refuses it too
        "planner": served.signed_in("planner", "wang.planner"),
        "auditor": served.signed_in("auditor", "wang.auditor"),
        "steward": served.signed_in("steward", "li.steward"),
    }
    tokens = {role: csrf_of(client.get("/ui/signin").text) for role, client in sessions.items()}
    for method, path, roles in _page_routes(tmp_path / "routes"):
        if roles is PUBLIC:
            continue
        assert roles in (READERS, STEWARDS, AUDITORS, PLANNERS, WORKLIST_READERS, SIGNED_IN), (method, path)
        for role, client in sessions.items():
            if role in roles:
                continue
            response = client.request(
                method, _concrete(path), data={"csrf_token": tokens[role], "reason": "r", "decision": "match", "kind": "name", "q": "x"}
            )
            assert response.status_code == 403, (role, method, path)
    # the worklist routes admit subscribers by role; the service then admits only a health department's, in its area
    assert sessions["subscriber"].get("/ui/indicators/worklist/child_vaccination?area=4403").status_code == 403
    for client in sessions.values():
        client.close()


def test_a_route_that_names_no_roles_refuses_everyone() -> None:
    router = APIRouter(route_class=PageRoute)

    @router.get("/ui/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "yes"}

    app = FastAPI()
    app.include_router(router)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get("/ui/forgotten")

    response = asyncio.run(call())
    assert response.status_code == 403 and "secret" not in response.text


def test_a_form_post_without_the_csrf_token_or_from_another_site_is_refused(served: Served) -> None:
    browser = served.signed_in()
    token = csrf_of(browser.get("/ui/signin").text)
    assert browser.post("/ui/decisions/1/approve", data={}).status_code == 403
    assert browser.post("/ui/decisions/1/approve", data={"csrf_token": token[:-2] + "xx"}).status_code == 403
    foreign = browser.post("/ui/decisions/1/approve", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "evil.example" in foreign.text
    refused = browser.post("/ui/signout", data={})
    assert refused.status_code == 403
    assert browser.get("/ui/decisions").status_code != 303  # still signed in: the refused sign-out did nothing
    browser.close()


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(served: Served) -> None:
    with served.client() as browser:
        response = browser.get("/ui/signin")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html
    assert "http://" not in html.replace(served.base_url, "") and "https://" not in html  # no CDN, no outside asset


def test_static_assets_are_served_by_the_application(served: Served) -> None:
    with served.client() as browser:
        script = browser.get("/ui/static/review.js")
        sheet = browser.get("/ui/static/app.css")
    assert script.status_code == 200 and "keydown" in script.text
    assert sheet.status_code == 200 and "text/css" in sheet.headers["content-type"]
