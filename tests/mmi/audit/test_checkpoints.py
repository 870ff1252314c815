"""Checkpoints: C2SP signed notes with the log's own key, made from the `[audit]` section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mmi.audit.checkpoints import AuditSettings, ensure_key, open_note, sign_note, trusted_verifier
from mmi.config import settings_from_dict
from schemas.errors import ConfigError


def test_audit_section_is_read_and_checked(tmp_path: Path) -> None:
    settings = settings_from_dict(
        {"store": {"url": "sqlite:///x.db"}, "audit": {"origin": "mmi.test/log", "signing_key": "k/log.pem"}}, tmp_path / "mmi.toml"
    )
    assert settings.audit is not None
    assert settings.audit.origin == "mmi.test/log" and settings.audit.signing_key == tmp_path / "k" / "log.pem"
    with pytest.raises(ConfigError, match=r"\[audit\] has unknown keys \['key'\]"):
        settings_from_dict({"store": {"url": "sqlite:///x.db"}, "audit": {"key": "x"}}, tmp_path / "mmi.toml")
    with pytest.raises(ConfigError, match="origin"):
        settings_from_dict({"store": {"url": "sqlite:///x.db"}, "audit": {"origin": "has space"}}, tmp_path / "mmi.toml")


def test_a_note_verifies_with_the_logs_key_only(tmp_path: Path) -> None:
    audit = AuditSettings("mmi.test/log", tmp_path / "log.pem", tmp_path / "log.pub")
    key = ensure_key(audit)
    assert (audit.signing_key.stat().st_mode & 0o777) == 0o600
    root = bytes(range(32))
    note = sign_note(audit.origin, key, 42, root, dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC))
    lines = note.split("\n")
    assert lines[:4] == ["mmi.test/log", "42", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "time 2026-12-02T03:00:00Z"]
    assert lines[4] == "" and lines[5].startswith("\u2014 mmi.test/log ")
    point = open_note(note, trusted_verifier(audit))
    assert (point.size, point.root, point.time) == (42, root, "2026-12-02T03:00:00Z")
    forged = sign_note(audit.origin, Ed25519PrivateKey.generate(), 42, root, dt.datetime.now(dt.UTC))
    with pytest.raises(ValueError, match="no signature by the log's key"):
        open_note(forged, trusted_verifier(audit))
    with pytest.raises(ValueError, match="does not verify"):
        open_note(note.replace("\n42\n", "\n43\n"), trusted_verifier(audit))
