"""Canonical JSON text: sorted keys, no spaces, non-ASCII as UTF-8. A source payload's checksum (which decides what
is a new version) and the audit log's digests are taken over it, so its bytes must never change.

`json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))` defines it. msgspec writes the very
same bytes, several times faster, for what nearly every value is: objects with text keys and lists, of text,
integers, booleans and null (tests/schemas/test_canonical_json.py holds the two equal). Anything else (a float, a
date or time, which only `default` may turn into text) and what msgspec refuses (an integer beyond 64 bits, a lone
surrogate) is written by json.dumps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

_SCALARS = frozenset({str, int, bool, type(None)})
_ENCODER = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """`value` as canonical JSON text; `default` turns what JSON has no type for into what it has (json.dumps')."""
    if _plain(value):
        try:
            return _ENCODER.encode(value).decode("utf-8")
        except (OverflowError, msgspec.EncodeError, UnicodeEncodeError):
            pass
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=default)


def canonical_bytes(value: Any) -> bytes:
    """canonical_json's text as UTF-8 (what hashes are taken over)."""
    if _plain(value):
        try:
            return _ENCODER.encode(value)
        except (OverflowError, msgspec.EncodeError, UnicodeEncodeError):
            pass
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _plain(value: Any) -> bool:
    """Only text-keyed objects, lists, text, integers, booleans and null, at any depth."""
    kind = type(value)
    if kind is dict:
        return all(type(key) is str for key in value) and all(type(item) in _SCALARS or _plain(item) for item in value.values())
    if kind is list:
        return all(type(item) in _SCALARS or _plain(item) for item in value)
    return kind in _SCALARS
