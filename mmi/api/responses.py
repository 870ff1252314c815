"""Every error status a route can answer, in the OpenAPI document: worked out from each route, not listed by hand.

When the document is made, each route of the application (whichever router brought it) gets:
- 401 (with `WWW-Authenticate`), 403, 404 and 429 (with `Retry-After`) when it takes the caller (`Caller`,
  mmi.api.dependencies): no or a bad or revoked token, a role or jurisdiction that may not, something a
  parameter names that is not there or not the caller's to see, a spent budget;
- 404 when it has path parameters;
- 400 and 422 when it takes parameters or a body (422: a value outside its type or bounds, or a request the
  service refuses; 400: values that contradict each other or are missing together).
Statuses a route declares itself (its `responses=`, e.g. 409 for the review's state conflicts) are kept. Every
error body is `{"detail": ...}`: a message, or FastAPI's list of validation errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import Match, Route

from mmi.api.dependencies import caller

ERROR_SCHEMA = "ErrorDetail"
_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
DESCRIPTIONS = {
    400: "Bad request: values that contradict each other, or one that must come with another",
    401: "No bearer token, or one that is invalid, expired or revoked",
    403: "The token's role or jurisdiction may not do this",
    404: "Not found, or not the caller's to see",
    409: "The request conflicts with the current state",
    422: "A parameter or body outside its type or bounds, or a request the service refuses",
    429: "Too many requests with this token: wait `Retry-After` seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer, and why the token was refused", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds until the token may ask again", "schema": {"type": "integer"}}},
}


class ErrorDetail(BaseModel):
    detail: str = Field(description="what was wrong, in words")


def statuses(route: APIRoute) -> set[int]:
    """The error statuses `route` can answer by the way it is built."""
    found: set[int] = set()
    if any(dependant.call is caller for dependant in _dependants(route.dependant)):
        found |= {401, 403, 404, 429}  # 404: what a parameter names is not there, or not the caller's to see
    if route.dependant.path_params:
        found.add(404)
    if route.dependant.path_params or route.dependant.query_params or route.dependant.body_params:
        found |= {400, 422}
    return found | {code for code in route.responses if isinstance(code, int) and code in DESCRIPTIONS}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def document_errors(document: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """`document` with every route's error statuses added (those already there completed, not replaced)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA, ErrorDetail.model_json_schema())
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses(route)):
                response = responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
                response["content"] = {"application/json": {"schema": _error_schema(code, response)}}
                if code in _HEADERS:
                    response.setdefault("headers", {}).update(_HEADERS[code])
    return document


def _error_schema(code: int, response: dict[str, Any]) -> dict[str, Any]:
    if code == 422 or _VALIDATION_REF in _schemas_of(response):
        return {"anyOf": [_VALIDATION_REF, _REF]}  # FastAPI's list of problems, or the service's message
    return _REF


def _schemas_of(response: dict[str, Any]) -> list[Any]:
    return [media.get("schema") for media in response.get("content", {}).values()]


def install_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` document every route's errors, routers included later as well."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate(), list(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(405, method_not_allowed)


async def method_not_allowed(request: Request, error: Exception) -> Response:
    """405 naming every method the path takes in `Allow`: Starlette names only those of the first route that
    matched the path, though several routes may share it (GET and POST /v1/review/decisions)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _child = route.matches(request.scope)
        if match is not Match.NONE and isinstance(route, APIRoute | Route) and route.methods:
            methods |= route.methods
    allowed = ", ".join(sorted(methods))
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allowed} if allowed else None)
