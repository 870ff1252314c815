"""The API running for real: uvicorn on a free port in a thread, over a store with published change sets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from mmi.api import api_settings, create_app, create_keys
from mmi.api.settings import ApiSettings
from mmi.config import Settings, settings_from_dict
from mmi.exchange import publish
from mmi.store.database import open_store
from tests.mmi.exchange.outbox import SUBSCRIBERS, Outbox, golden


@dataclass
class RunningApi:
    base_url: str
    settings: Settings
    api: ApiSettings
    engine: Engine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_config(tmp_path: Path, store_url: str) -> Settings:
    raw = {
        "store": {"url": store_url},
        "exchange": {"out_dir": "changesets", "max_events": 2},
        "subscribers": SUBSCRIBERS,
        "api": {"issuer": "mmi-test", "audience": "exchange-test", "jwks": "keys/jwks.json", "signing_key": "keys/signing.pem"},
    }
    return settings_from_dict(raw, tmp_path / "mmi.toml")


@pytest.fixture
def running_api(store: Engine, store_url: str, tmp_path: Path) -> Iterator[RunningApi]:
    """Five events published (zhengzhou-health: 3 change sets; guangdong-police: 1), the API serving them."""
    with serve_published(tmp_path, store_url, store) as running:
        yield running


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """The same on SQLite, once per module, for tests that change nothing (tokens are checked before the store)."""
    tmp_path = tmp_path_factory.mktemp("api")
    store_url = f"sqlite:///{tmp_path / 'store' / 'mmi.db'}"
    engine = open_store(store_url)
    with serve_published(tmp_path, store_url, engine) as running:
        yield running
    engine.dispose()


@contextlib.contextmanager
def serve_published(tmp_path: Path, store_url: str, engine: Engine) -> Iterator[RunningApi]:
    settings = api_config(tmp_path, store_url)
    outbox = Outbox(engine)
    for number, district in enumerate(["410105", "410102", "440305", "410105", "410171"]):
        outbox.add("create", f"M{number}", after=golden(name=f"人{number}", current_district=district))
    publish(settings, engine)
    api = api_settings(settings)
    create_keys(api)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield RunningApi(f"http://127.0.0.1:{server.config.port}", settings, api, engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
