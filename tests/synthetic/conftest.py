"""Fixtures for the synthetic feed generator: small generated folders, made once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthetic import generate_feeds
from tests.conftest import SAMPLES


@pytest.fixture(scope="session")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """150 people, noise 1: every corruption kind appears at least once."""
    out = tmp_path_factory.mktemp("feeds")
    return out, generate_feeds(out, people=150, seed=11, noise=1.0)


@pytest.fixture(scope="session")
def clean_feeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """No noise at all: every value is the truth, and nothing is corrupt."""
    out = tmp_path_factory.mktemp("clean")
    return out, generate_feeds(out, people=150, seed=11, noise=0.0)


@pytest.fixture
def samples() -> Path:
    """The departments' real-shaped extracts, carried in the repository (docs/feeds.md)."""
    return SAMPLES
