"""`mmi serve`: the application under uvicorn, in one process or several, over plain HTTP or TLS.

With `workers` above 1 uvicorn starts that many processes, each making the application from the config named by
$MMI_CONFIG (`application`, a factory). Each keeps its own rate-limit buckets and its own copy of the deny list
(mmi.api.ratelimit, mmi.api.revocation). With `tls_cert` and `tls_key` (PEM files) uvicorn serves HTTPS and the
responses carry HSTS (mmi.api.headers).

The access log (at `log_level` info or lower) writes the request line: the method, the path and the query. Bearer
tokens travel in the Authorization header, which it never writes; the one secret a query can carry, a sign-in
code (/ui/login?code=...), is masked by `RedactSecrets` before the line is written.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from mmi.config import Settings, load_settings
from schemas.errors import ConfigError

_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:code|token|access_token)=)[^&\s\"]*", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Masks sign-in codes and any token put in a query string by mistake, in uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_SECRET_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def log_config(log_level: str) -> dict[str, Any]:
    import uvicorn.config

    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    config["loggers"]["uvicorn.access"]["level"] = log_level.upper()
    return config


def application() -> FastAPI:
    """The application from $MMI_CONFIG: what each uvicorn worker process makes."""
    from mmi.api.app import create_app
    from mmi.store.database import open_store

    settings = load_settings(None)
    return create_app(settings, open_store(settings.store_url))


def serve(
    settings: Settings,
    engine: Engine,
    host: str,
    port: int,
    *,
    workers: int = 1,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    log_level: str = "warning",
) -> None:
    """Serve until stopped. The store is open (and migrated) already, so workers do not race to migrate it."""
    import uvicorn

    from mmi.api.app import create_app

    options: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "log_config": log_config(log_level)}
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)")
    if tls_cert is not None and tls_key is not None:
        for path in (tls_cert, tls_key):
            if not path.is_file():
                raise ConfigError(f"no TLS file at {path}")
        options |= {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
    if workers > 1:
        if settings.config_path is None:
            raise ConfigError("several workers read the config from a file: give --config")
        os.environ["MMI_CONFIG"] = str(settings.config_path)
        engine.dispose()  # each worker opens its own connections
        uvicorn.run(f"{__name__}:application", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings, engine), **options)
