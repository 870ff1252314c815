"""The exchange's commands as a department's administrator runs them: keys, token, publish, serve."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mmi.api import api_settings
from mmi.api.auth import KeySet, verify_token
from mmi.config import load_settings
from mmi.store.database import open_store
from tests.mmi.api.conftest import free_port
from tests.mmi.exchange.outbox import Outbox, golden
from tests.mmi.exchange.test_failpoints import write_config

ROOT = Path(__file__).resolve().parents[2]


def mmi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mmi.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_keys_and_tokens(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    token = mmi("token", "--config", str(config), "--role", "subscriber", "--subject", "zhengzhou-health")
    assert token.returncode == 0 and "created a signing key" in token.stderr  # keys made on demand
    api = api_settings(load_settings(config))
    principal = verify_token(token.stdout.strip().splitlines()[-1], KeySet(api.jwks), api)
    assert (principal.subject, principal.role) == ("zhengzhou-health", "subscriber")

    unknown = mmi("token", "--config", str(config), "--role", "subscriber", "--subject", "nobody")
    assert unknown.returncode == 2 and "[subscribers.nobody]" in unknown.stderr
    again = mmi("keys", "--config", str(config))
    assert again.returncode == 2 and "--rotate" in again.stderr
    assert mmi("keys", "--config", str(config), "--rotate").returncode == 0
    assert len(json.loads(api.jwks.read_text())["keys"]) == 2
    verify_token(token.stdout.strip().splitlines()[-1], KeySet(api.jwks), api)  # the old key still valid


def test_publish_then_serve(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'mmi.db'}"
    config = write_config(tmp_path, store_url)
    engine = open_store(store_url)
    Outbox(engine).add("create", "M1", after=golden())
    engine.dispose()
    published = mmi("publish", "--config", str(config))
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout.splitlines()[-1])["changesets"] == {"zhengzhou-health": [1]}

    token = mmi("token", "--config", str(config), "--role", "subscriber", "--subject", "zhengzhou-health").stdout.splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mmi.cli", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        listing = _get_when_up(f"http://127.0.0.1:{port}/v1/changesets", token)
        assert [item["seq"] for item in listing["items"]] == [1]
        assert httpx.get(f"http://127.0.0.1:{port}/v1/changesets", timeout=5).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get_when_up(url: str, token: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
            result: dict[str, object] = response.json()
            return result
        except httpx.TransportError:
            assert time.monotonic() < deadline, "mmi serve did not start"
            time.sleep(0.2)


def test_run_ingests_links_and_publishes(tmp_path: Path) -> None:
    from devtools.feeds import served_feeds

    with served_feeds(tmp_path, people=300, seed=31, noise=1.0) as feeds:
        run = mmi("run", "--config", str(feeds.config))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])["publish"]
    assert report["events_read"] > 0 and set(report["changesets"]) <= {
        "zhengzhou-health",
        "guangdong-public-security",
        "shanghai-human-resources",
    }
    assert list((tmp_path / "var" / "changesets").rglob("*.avro"))
