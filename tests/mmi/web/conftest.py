"""Fixtures of the pages' tests: the application served over real HTTP on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.mmi.web.server import Served, serve


@pytest.fixture
def served(store: Engine, store_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path, store_url, store) as running:
        yield running
