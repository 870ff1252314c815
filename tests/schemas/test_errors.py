"""Errors carry their context as fields beside the message, keep it across processes, and all sit under MMIError."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from connectors.drop_folder import new_files
from mmi.api.auth import Unauthorized
from mmi.config import settings_from_dict
from schemas.changeset.compatibility import resolve
from schemas.errors import ConfigError, MMIError, SchemaError, SourceError, TransientError, UnusableRecord


class NoState:
    def cursor(self, stream: str) -> None:
        return None

    def file_taken(self, sha256: str) -> bool:
        return False


def test_a_source_error_names_its_department_and_location(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        next(new_files("statistics", tmp_path / "missing", lambda path: True, NoState(), "tj_ldrk"))
    assert raised.value.department == "statistics" and raised.value.location == str(tmp_path / "missing")
    assert str(raised.value).startswith("[statistics] drop folder")
    assert raised.value.context == {"department": "statistics", "location": str(tmp_path / "missing")}


def test_the_fields_survive_a_trip_to_another_process() -> None:
    error = SourceError("health", "GET /api/v1/persons answered 401", location="http://x/api/v1/persons")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SourceError and str(copy) == str(error) and copy.context == error.context
    transient = pickle.loads(pickle.dumps(TransientError("[health] down", department="health", cursor={"updated_since": "t"})))
    assert transient.cursor == {"updated_since": "t"} and transient.record_key is None


def test_a_config_error_locates_the_key() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_dict({"store": {"url": "sqlite://"}, "sources": {"health": {"base_url": "x", "token": "t", "pagesize": 5}}})
    assert raised.value.location == "[sources.health] pagesize"


def test_every_error_the_project_raises_is_an_mmi_error() -> None:
    for kind in (ConfigError, SourceError, TransientError, UnusableRecord, SchemaError, Unauthorized):
        assert issubclass(kind, MMIError), kind
    with pytest.raises(SchemaError, match="fits no branch"):
        resolve(None, ["string"], ["string"], {}, {})
