"""Signing in (one-time link, pasted token), the session cookie's flags, idle timeout and signing out, over HTTP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from mmi.api import issue_token
from mmi.store.web_tables import web_login_code, web_session
from tests.mmi.web.server import Served, csrf_of


def _cookie(response, name: str) -> str:  # type: ignore[no-untyped-def]
    headers = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]
    assert headers, f"no {name} cookie set"
    return headers[0]


def test_a_login_link_signs_in_once_and_sets_a_strict_httponly_cookie(served: Served) -> None:
    link = served.login_link("steward", "li.steward")
    with served.client() as browser:
        response = browser.get(link)
        assert response.status_code == 303 and response.headers["location"] == "/ui/queue"
        cookie = _cookie(response, "mmi_session").lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
        assert "secure" not in cookie  # plain http here; over https it is Secure (test_cookies_are_secure_over_tls)
        assert response.headers["referrer-policy"] == "same-origin"
    with served.client() as other:
        again = other.get(link)
        assert again.status_code == 401 and "mmi_session" not in again.headers.get("set-cookie", "")
        assert "mmi login" in again.text


def test_the_code_is_stored_only_as_a_hash(served: Served) -> None:
    link = served.login_link()
    code = link.split("code=")[1]
    with served.engine.connect() as connection:
        stored = connection.execute(select(web_login_code.c.code_sha256)).scalars().all()
    assert len(stored) == 1 and code not in stored[0] and len(stored[0]) == 64


def test_an_expired_link_is_refused(served: Served) -> None:
    link = served.login_link()
    with served.engine.begin() as connection:
        connection.execute(update(web_login_code).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with served.client() as browser:
        assert browser.get(link).status_code == 401


def test_old_codes_are_cleared_away_by_the_next_one(served: Served) -> None:
    served.login_link()
    with served.engine.begin() as connection:
        connection.execute(update(web_login_code).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)))
    served.login_link()
    with served.engine.connect() as connection:
        assert len(connection.execute(select(web_login_code)).all()) == 1


def test_a_pasted_token_signs_in_and_a_bad_one_says_why(served: Served) -> None:
    with served.client() as browser:
        form = browser.get("/ui/signin")
        token = csrf_of(form.text)
        assert "mmi_presession" in form.headers["set-cookie"]
        bad = browser.post("/ui/signin", data={"token": "not-a-token", "csrf_token": token})
        assert bad.status_code == 401 and "malformed token" in bad.text
        good = browser.post(
            "/ui/signin", data={"token": issue_token(served.api, "auditor", "wang.auditor"), "csrf_token": token, "next": "/ui/decisions"}
        )
        assert good.status_code == 303 and good.headers["location"] == "/ui/decisions"
        assert "samesite=strict" in _cookie(good, "mmi_session").lower()
        assert browser.get("/ui/signout").status_code == 405  # signing out is a form post, never a link


def test_a_subscriber_token_opens_no_page_unless_its_department_is_health(served: Served) -> None:
    with served.client() as browser:
        token = csrf_of(browser.get("/ui/signin").text)
        response = browser.post(
            "/ui/signin", data={"token": issue_token(served.api, "subscriber", "guangdong-police"), "csrf_token": token}
        )
        assert response.status_code == 403 and "mmi_session" not in response.headers.get("set-cookie", "")
        health = browser.post("/ui/signin", data={"token": issue_token(served.api, "subscriber", "zhengzhou-health"), "csrf_token": token})
        assert health.status_code == 303 and health.headers["location"] == "/ui/indicators/worklist"  # its worklists


def test_a_planner_signs_in_by_link_at_the_indicators_and_can_sign_out(served: Served) -> None:
    with served.client() as browser:
        arrived = browser.get(served.login_link("planner", "wang.planner", ("41",)))
        assert arrived.status_code == 303 and arrived.headers["location"] == "/ui/indicators/"
        page = browser.get("/ui/indicators/?as_of=2026-08-31")
        assert page.status_code == 200 and 'href="/ui/indicators/"' in page.text and 'href="/ui/queue"' not in page.text
        assert browser.post("/ui/signout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
        assert browser.get("/ui/indicators/").status_code == 303  # signed out: to the sign-in page


def test_signing_in_by_token_needs_the_forms_csrf_token(served: Served) -> None:
    with served.client() as browser:
        browser.get("/ui/signin")
        response = browser.post("/ui/signin", data={"token": issue_token(served.api, "steward", "li.steward")})
        assert response.status_code == 403 and "mmi_session" not in response.headers.get("set-cookie", "")


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(served: Served) -> None:
    browser = served.signed_in()
    stolen = dict(browser.cookies)
    page = browser.get("/ui/signin")  # any page carries the session's CSRF token
    response = browser.post("/ui/signout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/ui/signin"
    with served.client() as thief:
        thief.cookies.update(stolen)
        assert thief.get("/ui/decisions").status_code == 303
    with served.engine.connect() as connection:
        assert connection.execute(select(web_session.c.ended_at)).scalar_one() is not None
    browser.close()


def test_signing_in_again_ends_the_browsers_previous_session(served: Served) -> None:
    browser = served.signed_in("steward", "li.steward")
    assert browser.get(served.login_link("auditor", "wang.auditor")).status_code == 303
    with served.engine.connect() as connection:
        ended = {row.subject: row.ended_at for row in connection.execute(select(web_session))}
    assert ended["li.steward"] is not None and ended["wang.auditor"] is None
    assert "wang.auditor" in browser.get("/ui/signin").text
    browser.close()


def test_an_idle_session_is_over(served: Served) -> None:
    browser = served.signed_in()
    with served.engine.begin() as connection:
        connection.execute(
            update(web_session).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=served.web.idle_timeout_seconds + 1))
        )
    response = browser.get("/ui/decisions")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin?next=")
    browser.close()


def test_the_session_of_a_pasted_token_ends_with_the_token(served: Served) -> None:
    with served.client() as browser:
        token = csrf_of(browser.get("/ui/signin").text)
        browser.post("/ui/signin", data={"token": issue_token(served.api, "steward", "li.steward", ttl_seconds=120), "csrf_token": token})
    with served.engine.connect() as connection:
        row = connection.execute(select(web_session)).one()
    assert row.expires_at - row.created_at <= dt.timedelta(seconds=121)


def test_next_never_leaves_the_pages(served: Served) -> None:
    with served.client() as browser:
        token = csrf_of(browser.get("/ui/signin").text)
        response = browser.post(
            "/ui/signin",
            data={"token": issue_token(served.api, "steward", "li.steward"), "csrf_token": token, "next": "https://elsewhere.example/"},
        )
        assert response.headers["location"] == "/ui/queue"
