"""The registry is the one list of departments: every connector folder declares a source, and each is listed once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from pathlib import Path

import connectors
from connectors.drop_folder import FileCursor
from connectors.health import UpdatedSinceCursor
from connectors.public_security import GxsjCursor
from connectors.registry import DEPARTMENTS, SOURCES, source

FOLDER = Path(connectors.__file__).parent


def test_every_connector_folder_declares_its_source_and_is_registered() -> None:
    folders = sorted(path.name for path in FOLDER.iterdir() if (path / "__init__.py").exists())
    assert sorted(DEPARTMENTS) == folders
    for name in folders:
        declared = importlib.import_module(f"connectors.{name}").SOURCE
        assert declared.department == name and source(name) is declared
    assert len(set(DEPARTMENTS)) == len(SOURCES)


def test_each_source_declares_frozen_typed_settings_and_a_cursor() -> None:
    for declared in SOURCES:
        assert dataclasses.is_dataclass(declared.settings) and declared.settings.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert hasattr(declared.cursor, "from_json") and hasattr(declared.cursor, "as_json")
    assert len({declared.trust for declared in SOURCES}) == len(SOURCES)  # golden-record trust is a strict order


def test_cursors_round_trip_through_their_json_and_carry_their_look_back() -> None:
    stamp = dt.datetime(2026, 3, 1, 9, 30)
    for cursor in (GxsjCursor(stamp), FileCursor("rs_cbdj_20260301.csv", "ab" * 32, 120), UpdatedSinceCursor("2026-03-01T09:30:00+08:00")):
        assert type(cursor).from_json(cursor.as_json()) == cursor
    assert GxsjCursor(stamp).read_from(3600) == stamp - dt.timedelta(hours=1)
