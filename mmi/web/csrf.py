"""CSRF protection for every form the pages post.

Signed in, a form carries the session's own CSRF token (made with the session, kept server-side). Before sign-in
(the token form, the language switch) there is no session yet, so a random pre-session cookie is set with the form
and the form must echo it (double submit): a page on another site can neither read the cookie nor, with
SameSite=Strict, make the browser send it. The Origin header, where the browser sends one, must be this site too.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Request

FIELD = "csrf_token"
PRESESSION_COOKIE = "mmi_presession"


class CsrfRefused(Exception):
    """A form post without the right CSRF token or from another origin (HTTP 403)."""


def presession_token(request: Request) -> tuple[str, bool]:
    """The pre-session token for a form, and whether it is new (and so must be set as a cookie)."""
    current = request.cookies.get(PRESESSION_COOKIE)
    if current and 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(32), True


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:  # older browsers and non-browser clients; the token still has to match
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise CsrfRefused(f"a form posted from {origin} to {host}")


def check_token(request: Request, sent: str | None, expected: str | None) -> None:
    """Refuse the post unless it came from this site with the expected token."""
    check_origin(request)
    if not sent or not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("the form's CSRF token is missing or wrong: reload the page and try again")
