"""Generated feeds, the health department's API serving them, and their config pointing at it.

What the demo and the tests start from (the benchmarks serve the API from a process of their own, bench/feeds.py):
`served_feeds(folder, people=N)` generates the four departments' feeds into `folder` (or takes the ones already
there), starts the local health API on a free port, writes that address into the folder's `mmi.toml` (so that
commands and Airflow runs in other processes read it too), and stops the server on leaving.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmi.config import Settings, load_settings
from synthetic import generate_feeds, start_health_api

_HEALTH_URL = re.compile(r'^base_url = "[^"]*"$', re.MULTILINE)  # only [sources.health] has a base_url


@dataclass(frozen=True)
class ServedFeeds:
    folder: Path
    config: Path  # the folder's mmi.toml, naming the running health API
    base_url: str  # of the health API

    def settings(self, **changes: Any) -> Settings:
        """The config's settings, with `changes` (store_url, linkage, ...) applied."""
        return dataclasses.replace(load_settings(self.config), **changes)


@contextlib.contextmanager
def served_feeds(folder: Path, *, people: int | None = None, seed: int = 1, noise: float = 1.0, **faults: Any) -> Iterator[ServedFeeds]:
    """Feeds in `folder` (generated for `people`, if given), served and configured until the block ends. `faults`
    go to the health API (rate_limit_every, error_every, ...)."""
    if people is not None:
        generate_feeds(folder, people=people, seed=seed, noise=noise)
    server, base_url = start_health_api(folder / "health", port=0, **faults)
    config = folder / "mmi.toml"
    try:
        config.write_text(_HEALTH_URL.sub(f'base_url = "{base_url}"', config.read_text(encoding="utf-8")), encoding="utf-8")
        yield ServedFeeds(folder, config, base_url)
    finally:
        server.shutdown()
