"""The read-terms key: made once with mode 0600, the same key after, and a damaged key file refused by name."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from mmi.audit.read_terms import KEY_BYTES, read_terms_key, term_digest
from schemas.errors import ConfigError


def test_the_key_is_made_once_private_and_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-read-terms.key"
    key = read_terms_key(path)
    assert len(key) == KEY_BYTES and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_terms_key(path) == key
    assert read_terms_key(tmp_path / "another.key") != key  # random, not derived from anything


def test_a_digest_depends_on_the_key_and_is_not_the_plain_sha256(tmp_path: Path) -> None:
    number = "110101199003077777"
    one, other = read_terms_key(tmp_path / "one.key"), read_terms_key(tmp_path / "other.key")
    assert term_digest(one, number) == term_digest(one, number)
    assert term_digest(one, number) != term_digest(other, number)
    assert term_digest(one, number) != hashlib.sha256(number.encode()).hexdigest()


@pytest.mark.parametrize("content", ["", "not hex at all", "ab" * 16, "ab" * 33])
def test_a_damaged_key_file_is_refused_by_name(tmp_path: Path, content: str) -> None:
    path = tmp_path / "audit-read-terms.key"
    path.write_text(content)
    with pytest.raises(ConfigError, match="read_terms_key .*audit-read-terms.key"):
        read_terms_key(path)
