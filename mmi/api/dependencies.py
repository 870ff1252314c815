"""What every route of the API depends on: the application's context and the caller behind the bearer token.

`Caller` (the dependency routes take the caller by) checks, in this order: a bearer token is there and verifies
(401), it is not on the deny list (401), its budget of requests is not spent (429 with `Retry-After`). Routes
that take a `Caller` are documented with the statuses this can answer (mmi.api.responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from mmi.api.auth import KeySet, Principal, Unauthorized, verify_token
from mmi.api.ratelimit import RateLimiter
from mmi.api.revocation import DenyList
from mmi.api.settings import ApiSettings
from mmi.exchange.subscriptions import ExchangeSettings

bearer = HTTPBearer(auto_error=False, description="A token from `mmi token` (ES256 or RS256, with kid)")


@dataclass(frozen=True)
class Context:
    engine: Engine
    api: ApiSettings
    exchange: ExchangeSettings
    keys: KeySet
    deny_list: DenyList
    limiter: RateLimiter
    read_terms_key: bytes  # what auditors' searched ID numbers and names are hashed with (mmi.audit.read_terms)


def make_context(engine: Engine, api: ApiSettings, exchange: ExchangeSettings, read_terms_key: bytes) -> Context:
    return Context(
        engine,
        api,
        exchange,
        KeySet(api.jwks),
        DenyList(engine, api.revocation_cache_seconds),
        RateLimiter(api.rate_limit_per_second, api.rate_limit_burst),
        read_terms_key,
    )


def context_of(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def _invalid(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "a bearer token is required (Authorization: Bearer <token from mmi token>)", headers={"WWW-Authenticate": "Bearer"}
        )
    context = context_of(request)
    try:
        principal = verify_token(credentials.credentials, context.keys, context.api)
    except Unauthorized as error:
        raise _invalid(str(error)) from None
    if context.deny_list.revoked(principal.token_id):
        raise _invalid("this token has been revoked (mmi token revoke): ask for a new one")
    wait = context.limiter.take((principal.subject, principal.token_id or ""))
    if wait:
        raise HTTPException(429, f"too many requests with this token: try again in {wait} s", headers={"Retry-After": str(wait)})
    return principal


Caller = Annotated[Principal, Depends(caller)]
