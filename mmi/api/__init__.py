"""The HTTP API: change-set delivery to subscribers, JWT bearer tokens checked against a JWKS file.

create_app(settings, engine) -> FastAPI     the application (OpenAPI at /openapi.json; Swagger UI is off: mmi.api.headers)
serve(settings, engine, host, port)         run it with uvicorn
issue_token(api, role, subject) / create_keys(api)   the token side (`mmi token`, `mmi keys`)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmi.api.app import create_app
    from mmi.api.keys import create_keys, ensure_keys, issue_token
    from mmi.api.serving import serve
    from mmi.api.settings import ApiSettings, api_settings

__all__ = ["ApiSettings", "api_settings", "create_app", "create_keys", "ensure_keys", "issue_token", "serve"]
_HOMES = {
    "create_app": "app",
    "serve": "serving",
    "create_keys": "keys",
    "ensure_keys": "keys",
    "issue_token": "keys",
    "ApiSettings": "settings",
    "api_settings": "settings",
}


def __getattr__(name: str) -> Any:
    """Each name from its module on first use: reading the config (mmi.api.settings) must not load FastAPI."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
