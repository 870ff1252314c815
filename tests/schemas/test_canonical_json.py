"""Canonical JSON (schemas.canonical_json) is byte for byte json.dumps(ensure_ascii=False, sort_keys=True, compact),
whichever encoder writes it: payload checksums stored before must still match the same rows delivered again."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical_json import canonical_json

SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=20) | st.floats(allow_nan=False)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=5), max_leaves=20
)


def _reference(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_the_text_is_json_dumps_text(value: object) -> None:
    assert canonical_json(value, default=str) == _reference(value)


def test_escapes_surrogates_big_numbers_floats_and_times_as_json_dumps_writes_them() -> None:
    for value in (
        {"控制": '\x00\x1f\x7f\u2028\u2029\ufeff"\\/', "é": ["\ud83d\ude00", "😀"]},
        {"lone": "\ud800"},  # msgspec refuses it: json.dumps writes it
        {"big": 2**64, "small": -(2**63) - 1, "fine": 2**63 - 1},
        {"f": 1e16, "g": 1e-05, "h": 0.1},
        {"when": dt.datetime(2026, 1, 2, 3, 4, 5), "day": dt.date(2026, 1, 2)},
        {"b": {"z": 1, "a": [True, None]}, "a": []},
    ):
        assert canonical_json(value, default=str) == _reference(value), value
