"""The change-set contract: one Avro schema per version (`v1.avsc`, `v2.avsc`, ...), documented field by field.

A new version may only add fields with defaults (or make other changes that keep full transitive compatibility:
every version reads data written with every other); `compatibility.py` checks that, and CI runs the check. The
publisher always writes the newest version; the file's metadata names the version and its fingerprint.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

FOLDER = Path(__file__).resolve().parent


def versions() -> list[int]:
    """Every schema version kept in this folder, oldest first."""
    return sorted(int(path.stem[1:]) for path in FOLDER.glob("v*.avsc") if path.stem[1:].isdigit())


def latest_version() -> int:
    return versions()[-1]


@cache
def schema_json(version: int) -> dict[str, Any]:
    """The schema of `version` as written in its .avsc file (with docs)."""
    loaded: dict[str, Any] = json.loads((FOLDER / f"v{version}.avsc").read_text(encoding="utf-8"))
    return loaded


@cache
def parsed_schema(version: int) -> dict[str, Any]:
    """The schema of `version`, parsed by fastavro for writing and reading."""
    parsed = parse_schema(schema_json(version))
    assert isinstance(parsed, dict)
    return parsed


def schema_fingerprint(version: int) -> str:
    """SHA-256 of the schema's Parsing Canonical Form (docs and defaults do not change it), as 'sha256:<hex>'."""
    return "sha256:" + fingerprint(to_parsing_canonical_form(parsed_schema(version)), "SHA-256")


def shareable_fields(version: int | None = None) -> tuple[str, ...]:
    """The golden fields a subscription may list: the fields of the schema's Person record."""
    for field in schema_json(version or latest_version())["fields"]:
        if field["name"] == "person_before":
            person = next(branch for branch in field["type"] if isinstance(branch, dict))
            return tuple(f["name"] for f in person["fields"])
    raise LookupError("the change-set schema has no person_before field")
