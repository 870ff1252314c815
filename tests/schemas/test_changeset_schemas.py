"""The change-set schemas: documented field by field, readable by both Avro libraries, and each version
compatible with every other (full transitive), checked by round trips; the checker is shown to catch breaks."""

from __future__ import annotations

import copy
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.changeset import FOLDER, schema_json, versions
from schemas.changeset.compatibility import check_full_transitive, check_pair


def all_fields(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every field of every record in the schema, nested ones included, with its dotted path."""
    found = []
    if isinstance(schema, list):
        for branch in schema:
            found += all_fields(branch, path)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            for field in schema["fields"]:
                found.append((f"{path}{field['name']}", field))
                found += all_fields(field["type"], f"{path}{field['name']}.")
        elif schema.get("type") == "array":
            found += all_fields(schema["items"], path)
    return found


def test_there_are_versions_and_each_is_described_in_the_readme() -> None:
    assert versions()[:2] == [1, 2]
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    for version in versions():
        assert f"v{version}.avsc" in readme


@pytest.mark.parametrize("version", versions())
def test_every_field_is_documented(version: int) -> None:
    fields = all_fields(schema_json(version))
    assert len(fields) > 20
    assert [path for path, field in fields if not field.get("doc", "").strip()] == []


@pytest.mark.parametrize("version", versions())
def test_apache_avro_parses_every_version(version: int) -> None:
    assert avro.schema.parse((FOLDER / f"v{version}.avsc").read_text(encoding="utf-8")).fullname == "cn.mmi.exchange.ChangeEvent"


def test_every_version_reads_every_other_versions_data() -> None:
    assert check_full_transitive({version: schema_json(version) for version in versions()}) == []


def test_apache_avro_agrees_that_every_pair_is_compatible_both_ways() -> None:
    parsed = {version: avro.schema.parse((FOLDER / f"v{version}.avsc").read_text(encoding="utf-8")) for version in versions()}
    checker = ReaderWriterCompatibilityChecker()
    for reader in parsed.values():
        for writer in parsed.values():
            assert checker.get_compatibility(reader, writer).compatibility is SchemaCompatibilityType.compatible


def _changed(change: Any) -> dict[str, Any]:
    schema = copy.deepcopy(schema_json(versions()[-1]))
    change(schema)
    return schema


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(field for field in schema["fields"] if field["name"] == name)


BREAKING = {
    "a new field without a default": lambda s: s["fields"].append({"name": "priority", "type": "int", "doc": "x"}),
    "a field's type changed": lambda s: _field(s, "master_id").update(type="long"),
    "a field removed that has no default": lambda s: s["fields"].remove(_field(s, "run_id")),
    "an enum symbol removed, no default": lambda s: (
        _field(s, "operation")["type"]["symbols"].remove("split"),
        _field(s, "operation")["type"].pop("default"),
    ),
}


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_the_checker_catches_a_breaking_change(change: str) -> None:
    latest = versions()[-1]
    problems = check_full_transitive({latest: schema_json(latest), latest + 1: _changed(BREAKING[change])})
    assert problems, f"{change} was not caught"


def test_the_checker_accepts_an_optional_field_with_a_default() -> None:
    latest = versions()[-1]
    added = _changed(lambda s: s["fields"].append({"name": "note", "type": ["null", "string"], "default": None, "doc": "x"}))
    assert check_full_transitive({**{v: schema_json(v) for v in versions()}, latest + 1: added}) == []
    assert check_pair(schema_json(1), added, "v1 read by new") == []
