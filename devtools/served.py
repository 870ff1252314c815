"""A small, real index served by `mmi serve` in a process of its own: for the API's end-to-end tests and bench/load.

`build_index(out)`: generated feeds with twins and namesakes, ingested, linked by the trained model (the link run
refreshes the queue), published to the subscribers (and to `everywhere`, which receives every master), and the
queue refreshed again so that priorities count the deliveries, exactly as `mmi run` leaves it.
`serve_config(config, **api)`: the feeds' config made ready for `mmi serve` (the `everywhere` subscription, `[api]`
keys such as the rate limit). `mmi_serve(config, ...)`: the real command on a free port until the block ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine

from devtools.feeds import served_feeds
from mmi.config import Settings, load_settings
from mmi.exchange import publish
from mmi.exchange.subscriptions import Subscription, exchange_settings
from mmi.index import link_index
from mmi.ingest import ingest
from mmi.review import refresh_queue
from mmi.store.database import open_store

PEOPLE = 300
SEED = 12  # its queue holds conflicts, pairs and a cluster
# Every district: a subscriber that receives every master, so that any master decided on is published (four eyes).
_STORE_URL = re.compile(r"^url = .*$", re.MULTILINE)  # the first `url =` of the generated config: [store]'s
EVERYWHERE = Subscription("everywhere", "statistics", tuple(str(digit) for digit in range(1, 10)), ("name", "current_district"))


def build_index(out: Path, store_url: str | None = None, people: int = PEOPLE, seed: int = SEED) -> tuple[Settings, Engine]:
    """Feeds for `people` in `out`, ingested into the store at `store_url` (default: the generated config's SQLite
    file), linked, published, and the queue refreshed."""
    with served_feeds(out, people=people, seed=seed, noise=2.0) as served:
        loaded = load_settings(served.config)
        settings = dataclasses.replace(
            loaded, store_url=store_url or loaded.store_url, linkage=dataclasses.replace(loaded.linkage, workspace=out / "workspace.duckdb")
        )
        engine = open_store(settings.store_url)
        reports = ingest(settings, engine, parallel=False)
    assert all(report.error is None for report in reports), reports
    link_index(settings, engine)
    exchange = exchange_settings(settings)
    settings = dataclasses.replace(
        settings, exchange=dataclasses.replace(exchange, subscriptions={**exchange.subscriptions, "everywhere": EVERYWHERE})
    )
    publish(settings, engine)
    refresh_queue(engine)
    return settings, engine


def serve_config(settings: Settings, **api: object) -> Path:
    """The config file `settings` were read from, made ready for `mmi serve`: the store `build_index` used, the
    `everywhere` subscription it published to, and `api` keys of `[api]` (rate_limit_per_second = 1000, ...)."""
    assert settings.config_path is not None, "settings read from a file (build_index's)"
    path = settings.config_path
    text = _STORE_URL.sub(lambda _match: f"url = {json.dumps(settings.store_url)}", path.read_text(encoding="utf-8"), count=1)
    if "[subscribers.everywhere]" not in text:
        everywhere = f"department = {json.dumps(EVERYWHERE.department)}\njurisdiction = {json.dumps(list(EVERYWHERE.jurisdiction))}\n"
        text += f"\n[subscribers.everywhere]\n{everywhere}fields = {json.dumps(list(EVERYWHERE.fields))}\n"
    for key in api:  # a key set by an earlier call gives way
        text = re.sub(rf"^{re.escape(key)} = .*\n", "", text, flags=re.MULTILINE)
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in api.items())
    text = re.sub(r"^\[api\]\n", lambda _match: "[api]\n" + extra, text, count=1, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Serving:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path  # what the server wrote (stdout and stderr, the access log at --log-level info)


@contextlib.contextmanager
def mmi_serve(config: Path, *options: str, https: bool = False, log: Path | None = None) -> Iterator[Serving]:
    """`mmi serve --config CONFIG --port P OPTIONS` in a process of its own until the block ends, once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = log or config.with_name(f"serve-{port}.log")
    command = [str(Path(sys.executable).with_name("mmi")), "serve", "--config", str(config), "--port", str(port), *options]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"{'https' if https else 'http'}://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield Serving(base_url, process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its workers: the group this call started
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mmi serve exited with {process.returncode}: {log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
        try:
            # verify=False: a test serves TLS with a certificate it made itself; only the health route is read here
            if httpx.get(f"{base_url}/v1/health", timeout=2, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"mmi serve did not answer within 60 s: {log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
