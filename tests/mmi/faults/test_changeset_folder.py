"""A change-set folder that is full or read-only fails the publish cleanly: a clear error, exit 1, nothing
recorded as delivered; once the folder is fixed, the next publish delivers every event exactly once."""

from __future__ import annotations

import errno
import os
import types
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from mmi.cli import main
from mmi.exchange import changesets
from mmi.store.exchange_tables import changeset, changeset_event, exchange_batch, exchange_cursor
from tests.mmi.exchange.outbox import SUBSCRIBERS, Outbox
from tests.mmi.exchange.readers import published, read_fastavro
from tests.mmi.exchange.test_failpoints import add_events, expected_ids, write_config


def _nothing_recorded(engine: Engine, out_dir: Path) -> None:
    with engine.connect() as connection:
        for table in (changeset, changeset_event, exchange_batch):
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name
        assert connection.execute(select(exchange_cursor.c.floor_seq)).scalar() in (None, 0)
    assert not [path for path in out_dir.rglob("*") if path.is_file()], "a file of the failed publish was left"


def _each_event_once(engine: Engine, out_dir: Path, rows: list[dict[str, Any]]) -> None:
    for name, table in SUBSCRIBERS.items():
        ids = [str(event["event_id"]) for _, content in published(engine, out_dir, name) for event in read_fastavro(content)[1]]
        assert len(ids) == len(set(ids)) and set(ids) == expected_ids(rows, list(table["jurisdiction"])), name


@pytest.mark.parametrize(
    ("call", "code", "says"),
    [("fsync", errno.ENOSPC, "No space left on device"), ("replace", errno.EROFS, "Read-only file system")],
)
def test_a_full_or_read_only_folder_fails_the_publish_cleanly(
    store: Engine,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    call: str,
    code: int,
    says: str,
) -> None:
    config = write_config(tmp_path, store_url)
    rows = add_events(Outbox(store), 0, 12)
    out_dir = tmp_path / "changesets"

    def refuse(*_args: object) -> None:
        raise OSError(code, os.strerror(code))

    with monkeypatch.context() as patched:
        # What the kernel answers the change-set writer (only it) when the disk is full or mounted read-only.
        patched.setattr(changesets, "os", types.SimpleNamespace(**(vars(os) | {call: refuse})))
        assert main(["publish", "--config", str(config)]) == 1
    error = capsys.readouterr().err
    assert "cannot write change set" in error and says in error and "nothing was recorded as delivered" in error
    _nothing_recorded(store, out_dir)

    assert main(["publish", "--config", str(config)]) == 0
    _each_event_once(store, out_dir, rows)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder: run as a user to see the real refusal")
def test_a_folder_without_write_permission_fails_the_publish_cleanly(store: Engine, store_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, store_url)
    rows = add_events(Outbox(store), 0, 12)
    out_dir = tmp_path / "changesets"
    for name in SUBSCRIBERS:
        (out_dir / name).mkdir(parents=True)
        (out_dir / name).chmod(0o555)
    try:
        assert main(["publish", "--config", str(config)]) == 1
        _nothing_recorded(store, out_dir)
    finally:
        for name in SUBSCRIBERS:
            (out_dir / name).chmod(0o755)
    assert main(["publish", "--config", str(config)]) == 0
    _each_event_once(store, out_dir, rows)
