"""The application served for real (uvicorn in a thread) for the pages' tests, and signing a client in."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from mmi.api import api_settings, create_app, ensure_keys
from mmi.api.settings import ApiSettings
from mmi.config import Settings, settings_from_dict
from mmi.exchange.subscriptions import ExchangeSettings
from mmi.principal import Principal
from mmi.web.sessions import create_login_code
from mmi.web.settings import WebSettings, web_settings
from tests.mmi.api.conftest import free_port
from tests.mmi.exchange.outbox import SUBSCRIBERS


@dataclass
class Served:
    base_url: str
    settings: Settings
    api: ApiSettings
    web: WebSettings
    engine: Engine
    index_settings: Settings | None = None  # the linked index's own settings, where a test links again

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)

    def login_link(self, role: str = "steward", subject: str = "li.steward", jurisdiction: tuple[str, ...] | None = None) -> str:
        code = create_login_code(self.engine, self.web, Principal(subject, role, jurisdiction))
        return f"{self.base_url}/ui/login?code={code}"

    def signed_in(self, role: str = "steward", subject: str = "li.steward", jurisdiction: tuple[str, ...] | None = None) -> httpx.Client:
        client = self.client()
        response = client.get(self.login_link(role, subject, jurisdiction))
        assert response.status_code == 303, response.text
        return client

    @contextlib.contextmanager
    def browsing(
        self, role: str = "steward", subject: str = "li.steward", jurisdiction: tuple[str, ...] | None = None
    ) -> Iterator[httpx.Client]:
        """A signed-in client, closed afterwards."""
        client = self.signed_in(role, subject, jurisdiction)
        try:
            yield client
        finally:
            client.close()


def web_config(tmp_path: Path, store_url: str, subscribers: dict[str, Any] | None = None, **web: Any) -> Settings:
    raw = {
        "store": {"url": store_url},
        "exchange": {"out_dir": "changesets"},
        "subscribers": SUBSCRIBERS if subscribers is None else subscribers,
        "api": {"issuer": "mmi-test", "audience": "web-test", "jwks": "keys/jwks.json", "signing_key": "keys/signing.pem"},
        "web": web,
    }
    return settings_from_dict(raw, tmp_path / "mmi.toml")


@contextlib.contextmanager
def serve(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    subscribers: dict[str, Any] | None = None,
    exchange: ExchangeSettings | None = None,
    **web: Any,
) -> Iterator[Served]:
    """Serve the store; with `exchange`, an index's own subscriptions and change-set folder instead of the tests'."""
    settings = web_config(tmp_path, store_url, subscribers, **web)
    api = api_settings(settings)
    ensure_keys(api)
    port = free_port()
    settings = web_config(tmp_path, store_url, subscribers, public_url=f"http://127.0.0.1:{port}", **web)
    if exchange is not None:
        settings = dataclasses.replace(settings, exchange=exchange)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the application did not start"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, api, web_settings(settings), engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)
