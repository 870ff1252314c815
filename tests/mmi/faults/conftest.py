"""Fault fixtures: small generated feeds (no health API: drop folders and a table), configs that name a store,
and `mmi` run as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from mmi.store.tables import ingest_batch, quarantine, source_record
from synthetic import generate_feeds

ROOT = Path(__file__).resolve().parents[3]
OFFLINE = ("public_security", "human_resources", "statistics")  # the departments read without a server


@pytest.fixture(scope="session")
def small_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault-feeds")
    # 250 people: the three offline departments give a first model the 100 pairs a training rule needs (122 here).
    generate_feeds(out, people=250, seed=3)
    return out


@pytest.fixture
def feeds(small_feeds: Path, tmp_path: Path) -> Path:
    """This test's own copy of the feeds (drop folders are taken from)."""
    copy = tmp_path / "feeds"
    shutil.copytree(small_feeds, copy)
    return copy


def write_config(feeds: Path, store_url: str, name: str = "faults.toml", **store: float) -> Path:
    """The feeds' config (as `name`, beside it), without the health API, with `store_url` and these [store] settings."""
    text = (feeds / "mmi.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[sources\.health\]\n(?:[^\[\n][^\n]*\n)*", "", text)
    settings = "".join(f"{key} = {value}\n" for key, value in store.items())
    text = re.sub(r"\[store\]\nurl = [^\n]*\n", f"[store]\nurl = {json.dumps(store_url)}\n{settings}", text)
    config = feeds / name
    config.write_text(text, encoding="utf-8")
    return config


def mmi(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`mmi ARGS --config CONFIG` started as a process of its own (not waited for)."""
    environment = {key: value for key, value in os.environ.items() if key not in ("MMI_FAILPOINT", "MMI_CONFIG", "MMI_STORE_URL")}
    return subprocess.Popen(
        [sys.executable, "-m", "mmi.cli", *args, "--config", str(config)],
        cwd=ROOT,
        env=environment | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def landed(engine: Engine) -> dict[str, int]:
    """What ingest stored: versions (and distinct keys), quarantine, batches by status."""
    with engine.connect() as connection:
        counts = {
            "versions": connection.execute(select(func.count()).select_from(source_record)).scalar_one(),
            "keys": connection.execute(
                select(func.count()).select_from(select(source_record.c.department, source_record.c.source_key).distinct().subquery())
            ).scalar_one(),
            "current": connection.execute(select(func.count()).where(source_record.c.is_current.is_(True))).scalar_one(),
            "quarantined": connection.execute(select(func.count()).select_from(quarantine)).scalar_one(),
        }
        for status, count in connection.execute(select(ingest_batch.c.status, func.count()).group_by(ingest_batch.c.status)):
            counts[f"batches_{status}"] = count
    return counts
