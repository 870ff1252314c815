"""Shared by the benchmarks: generated feeds (cached by size, noise and seed) and the health API serving them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MMI = [sys.executable, "-m", "mmi.cli"]
DEVTOOLS = [sys.executable, "-m", "devtools"]  # the generator and the local health API


def generated_feeds(people: int, noise: float = 1.0, seed: int = 11, mix: dict[str, float] | None = None) -> Path:
    """The four feeds for `people`, generated once and kept under bench/results/. `mix`: population-mix options of
    `python -m devtools generate` (synthetic.mix, e.g. {"twins": 0.05}); the rest keep the generator's defaults."""
    mix = dict(sorted((mix or {}).items()))
    mixed = "".join(f"-{name[:2]}{value:g}" for name, value in mix.items())
    feeds = RESULTS / (f"feeds-{people}" if noise == 1.0 and seed == 11 and not mix else f"feeds-{people}-x{noise:g}-s{seed}{mixed}")
    if not (feeds / "mmi.toml").exists():
        started = time.monotonic()
        command = [*DEVTOOLS, "generate", "--out", str(feeds), "--people", str(people), "--seed", str(seed), "--noise", str(noise)]
        command += [option for name, value in mix.items() for option in (f"--{name.replace('_', '-')}", str(value))]
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"generated {people} people (noise x{noise:g}) in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return feeds


@contextlib.contextmanager
def health_api(feeds: Path) -> Iterator[int]:
    """`python -m devtools health-api` over the feeds' health folder, in its own process, on a free port."""
    port = _free_port()
    server = subprocess.Popen(
        [*DEVTOOLS, "health-api", "--data", str(feeds / "health"), "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    try:
        _wait_for(port)
        yield port
    finally:
        server.terminate()
        server.wait()


def ingested_store(feeds: Path) -> str:
    """A SQLite store holding the feeds ingested (once, then kept): its URL."""
    store = feeds / "blocking-store.db"
    if not store.exists():
        ingest_into(feeds, f"sqlite:///{store}")
    return f"sqlite:///{store}"


def ingest_into(feeds: Path, store_url: str, departments: tuple[str, ...] | None = None) -> None:
    """`mmi ingest` of the feeds into the store at `store_url`: every department at once, or the ones named, in turn."""
    with health_api(feeds) as port:
        for department in departments or (None,):
            command = [*MMI, "ingest", "--config", str(config_for_port(feeds, port))] + (["--source", department] if department else [])
            subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "MMI_STORE_URL": store_url}, stdout=subprocess.DEVNULL)


def config_for_port(feeds: Path, port: int, name: str = "bench.toml") -> Path:
    """A copy of the feeds' config pointing at the health API on `port`."""
    config = feeds / name
    config.write_text((feeds / "mmi.toml").read_text(encoding="utf-8").replace("127.0.0.1:8701", f"127.0.0.1:{port}"), encoding="utf-8")
    return config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the health API did not start on port {port}")
