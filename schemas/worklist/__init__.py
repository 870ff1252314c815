"""The worklist-change contract: one Avro schema per version (`v1.avsc`, ...), documented field by field.

Worklist files are delivered beside change sets, in the same sequence (mmi.exchange.worklists); a file names its
kind (`mmi.kind` = `worklist`), the schema version and its fingerprint in its metadata, as change sets do.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

FOLDER = Path(__file__).resolve().parent
VERSION = 1  # the version the publisher writes


@cache
def schema_json(version: int = VERSION) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FOLDER / f"v{version}.avsc").read_text(encoding="utf-8"))
    return loaded


@cache
def parsed_schema(version: int = VERSION) -> dict[str, Any]:
    parsed = parse_schema(schema_json(version))
    assert isinstance(parsed, dict)
    return parsed


def schema_fingerprint(version: int = VERSION) -> str:
    """SHA-256 of the schema's Parsing Canonical Form, as 'sha256:<hex>' (as for change sets)."""
    return "sha256:" + fingerprint(to_parsing_canonical_form(parsed_schema(version)), "SHA-256")
