"""The HTTP API: change-set delivery to subscribers, JWT bearer tokens checked against a JWKS file.

    create_app(settings, engine) -> FastAPI     the application (OpenAPI at /openapi.json, docs at /docs)
    serve(settings, engine, host, port)         run it with uvicorn
    issue_token(api, role, subject) / create_keys(api)   the token side (`mmi token`, `mmi keys`)
"""

from mmi.api.app import create_app, serve
from mmi.api.keys import create_keys, ensure_keys, issue_token
from mmi.api.settings import ApiSettings, api_settings

__all__ = ["ApiSettings", "api_settings", "create_app", "create_keys", "ensure_keys", "issue_token", "serve"]
