"""Tamper tests: a real store (generated feeds through ingest, link, a delivery, link, publish, a download, an
acknowledgement, a steward's decision, a token), then one change at a time behind the service's back, each
detected by `mmi audit verify` (exit 1, naming it). SQLite: each change on a copy of the store file; PostgreSQL:
each change made, verified, and undone, and the store verified intact again after all of them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, text

from mmi import provenance, review
from mmi.audit.checkpoints import audit_settings, open_note, sign_note, trusted_verifier
from mmi.cli import main
from mmi.config import Settings, load_settings
from mmi.exchange import deliveries, exchange_settings, publish
from mmi.index import add_constraint, link_index
from mmi.ingest import ingest
from mmi.principal import Principal
from mmi.review.models import DecisionRequest
from mmi.store.database import open_store
from synthetic import generate_delta, generate_feeds
from synthetic.health_api import start_health_api
from tests.mmi.web.workbench import build_index

TOOL = Path(__file__).resolve().parents[3] / "tools" / "verify_audit_bundle.py"


@pytest.fixture
def built(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Engine, Path]]:
    feeds = tmp_path / "feeds"
    generate_feeds(feeds, people=150, seed=31, noise=1.0)
    monkeypatch.setenv("MMI_STORE_URL", store_url)
    loaded = load_settings(feeds / "mmi.toml")
    server, base_url = start_health_api(feeds / "health", port=0)
    settings = loaded.with_source("health", dataclasses.replace(loaded.sources["health"], base_url=base_url))
    engine = open_store(store_url)
    for delta in (False, True):
        if delta:
            generate_delta(feeds, seed=5, fraction=0.1)
        assert all(report.error is None for report in ingest(settings, engine, parallel=False))
        link_index(settings, engine)
    publish(settings, engine)
    name = next(iter(exchange_settings(settings).subscriptions))
    deliveries.record_download(engine, name, 1, "alice", "auditor")
    deliveries.acknowledge(engine, name, 1, name)
    with engine.connect() as connection:
        a, b = connection.execute(text("SELECT department || '|' || source_key FROM source_record ORDER BY id LIMIT 2")).scalars()
    add_constraint(engine, "cannot_link", a, b, reason="different people", decided_by="steward-1")
    assert main(["token", "--config", str(feeds / "mmi.toml"), "--role", "auditor", "--subject", "auditor-1"]) == 0
    yield settings, engine, feeds
    server.shutdown()
    engine.dispose()


def verify(feeds: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify", "--config", str(feeds / "mmi.toml")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def _one_char(value: str) -> str:
    """`value` with one character changed (a digit or a letter stays one)."""
    for i in range(len(value) - 1, -1, -1):
        if value[i].isdigit():
            return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]
    return value[:-1] + ("x" if value[-1] != "x" else "y")


def _edit(engine: Engine, table: str, column: str, where: str) -> Callable[[], None]:
    """Change one character of `column` in the row `where` selects; the undo."""
    with engine.begin() as connection:
        old = connection.execute(text(f"SELECT {column} FROM {table} WHERE {where}")).scalar_one()
        connection.execute(text(f"UPDATE {table} SET {column} = :v WHERE {where}"), {"v": _one_char(old)})
    return lambda: _set(engine, table, column, where, old)


def _set(engine: Engine, table: str, column: str, where: str, value: object) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {table} SET {column} = :v WHERE {where}"), {"v": value})


def _swap_payloads(engine: Engine) -> Callable[[], None]:
    with engine.begin() as connection:
        (i, p), (j, q) = connection.execute(text("SELECT id, payload FROM source_record ORDER BY id LIMIT 2")).all()
    _set(engine, "source_record", "payload", f"id = {i}", q)
    _set(engine, "source_record", "payload", f"id = {j}", p)
    return lambda: (_set(engine, "source_record", "payload", f"id = {i}", p), _set(engine, "source_record", "payload", f"id = {j}", q))


def _relink(engine: Engine) -> Callable[[], None]:
    """Point one record's cross-reference at another master (a one-character change would break the foreign key)."""
    with engine.begin() as connection:
        key, master = connection.execute(
            text("SELECT source_record_id, master_id FROM master_xref ORDER BY source_record_id LIMIT 1")
        ).one()
        other = connection.execute(
            text("SELECT master_id FROM master_record WHERE master_id <> :m AND status = 'active' LIMIT 1"), {"m": master}
        ).scalar_one()
    _set(engine, "master_xref", "master_id", f"source_record_id = {key}", other)
    return lambda: _set(engine, "master_xref", "master_id", f"source_record_id = {key}", master)


def _delete_download(engine: Engine) -> Callable[[], None]:
    with engine.begin() as connection:
        row = dict(connection.execute(text("SELECT * FROM changeset_download ORDER BY id LIMIT 1")).one()._mapping)
        connection.execute(text("DELETE FROM changeset_download WHERE id = :id"), {"id": row["id"]})

    def undo() -> None:
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO changeset_download ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)

    return undo


def _truncate(engine: Engine) -> Callable[[], None]:
    with engine.begin() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM audit_leaf ORDER BY idx DESC LIMIT 3"))]
        connection.execute(text("DELETE FROM audit_leaf WHERE idx >= :i"), {"i": rows[-1]["idx"]})

    def undo() -> None:
        with engine.begin() as connection:
            for row in rows:
                connection.execute(text(f"INSERT INTO audit_leaf ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)

    return undo


def _resign(settings: Settings, engine: Engine) -> Callable[[], None]:
    with engine.begin() as connection:
        size, note = connection.execute(text("SELECT tree_size, note FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1")).one()
    point = open_note(note, trusted_verifier(audit_settings(settings)))
    forged = sign_note(point.origin, Ed25519PrivateKey.generate(), point.size, point.root, dt.datetime.now(dt.UTC))
    _set(engine, "audit_checkpoint", "note", f"tree_size = {size}", forged)
    return lambda: _set(engine, "audit_checkpoint", "note", f"tree_size = {size}", note)


def _alter_file(settings: Settings, engine: Engine) -> Callable[[], None]:
    with engine.connect() as connection:
        name = connection.execute(text("SELECT file_name FROM changeset ORDER BY file_name LIMIT 1")).scalar_one()
    path = exchange_settings(settings).out_dir / name
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    return lambda: path.write_bytes(original)


CASES: dict[str, tuple[Callable[[Settings, Engine], Callable[[], None]], str]] = {
    "golden value": (
        lambda s, e: _edit(e, "master_record", "name", "master_id = (SELECT min(master_id) FROM master_record WHERE status = 'active')"),
        "golden value 'name' differs",
    ),
    "master event": (lambda s, e: _edit(e, "master_event", "golden_after", "seq = 1"), "master_event"),
    "source payload": (lambda s, e: _edit(e, "source_record", "payload", "id = 3"), "source payload differs"),
    "cross-reference": (lambda s, e: _relink(e), "master_xref"),
    "steward decision": (
        lambda s, e: _edit(e, "link_constraint", "reason", "id = (SELECT min(id) FROM link_constraint)"),
        "link_constraint",
    ),
    "change-set row": (
        lambda s, e: _edit(e, "changeset", "sha256", "seq = 1 AND subscriber = (SELECT min(subscriber) FROM changeset)"),
        "changeset",
    ),
    "row deleted": (lambda s, e: _delete_download(e), "missing (deleted)"),
    "rows swapped": (lambda s, e: _swap_payloads(e), "source payload differs"),
    "log truncated": (lambda s, e: _truncate(e), "truncated"),
    "change-set file altered": (_alter_file, "differs from the one published"),
    "checkpoint re-signed": (_resign, "re-signed"),
}


@pytest.mark.slow
def test_every_tamper_is_detected_and_the_untouched_store_passes(
    built: tuple[Settings, Engine, Path], store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings, engine, feeds = built
    code, output = verify(feeds, capsys)
    assert code == 0, output
    assert "intact" in output
    cases = {name: (lambda tamper=tamper: tamper(settings, engine), expected) for name, (tamper, expected) in CASES.items()}
    each_detected(cases, engine, store_url, feeds, capsys, tmp_path)


def each_detected(
    cases: dict[str, tuple[Callable[[], Callable[[], None]], str]],
    engine: Engine,
    store_url: str,
    feeds: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Each tamper in turn detected (exit 1, naming it), then undone; the store intact again after all of them."""
    sqlite_file = Path(engine.url.database or "") if store_url.startswith("sqlite") else None
    for name, (tamper, expected) in cases.items():
        if sqlite_file is not None:  # on a copy of the store: the original is put back afterwards
            shutil.copy(sqlite_file, tmp_path / "pristine.db")
        undo = tamper()
        code, output = verify(feeds, capsys)
        assert code == 1, f"{name}: not detected: {output}"
        assert "TAMPERED:" in output and expected in output, f"{name}: {output}"
        undo()
        if sqlite_file is not None:
            engine.dispose()
            shutil.copy(tmp_path / "pristine.db", sqlite_file)
    code, output = verify(feeds, capsys)
    assert code == 0, output


@pytest.mark.slow
def test_redacted_payload_is_reported_as_redacted_and_the_bundle_verifies_standalone(
    built: tuple[Settings, Engine, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings, engine, feeds = built
    with engine.connect() as connection:
        record = connection.execute(
            select(text("department || '|' || source_key")).select_from(text("source_record")).where(text("id = 5"))
        ).scalar_one()
    assert (
        main(
            ["audit", "redact", "--config", str(feeds / "mmi.toml"), "--record", record, "--version", "1", "--reason", "erasure request 17"]
        )
        == 0
    )
    code, output = verify(feeds, capsys)
    assert code == 0, output
    assert "redacted" in output and "payload redacted" in output
    with engine.connect() as connection:
        first = connection.execute(text("SELECT note FROM audit_checkpoint ORDER BY tree_size LIMIT 1")).scalar_one()
    kept = tmp_path / "kept-checkpoint.txt"  # what a department kept: the log must have only grown since
    kept.write_text(first, encoding="utf-8")
    capsys.readouterr()
    assert main(["audit", "verify", "--config", str(feeds / "mmi.toml"), "--since-checkpoint", str(kept)]) == 0
    point = open_note(first, trusted_verifier(audit_settings(settings)))
    kept.write_text(
        sign_note(point.origin, Ed25519PrivateKey.generate(), point.size, point.root, dt.datetime.now(dt.UTC)), encoding="utf-8"
    )
    assert main(["audit", "verify", "--config", str(feeds / "mmi.toml"), "--since-checkpoint", str(kept)]) == 1
    assert "--since-checkpoint" in capsys.readouterr().err
    bundle = tmp_path / "bundle"
    assert main(["audit", "export", "--config", str(feeds / "mmi.toml"), "--out", str(bundle)]) == 0
    ok = subprocess.run([sys.executable, str(TOOL), str(bundle)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    leaves = (bundle / "leaves.jsonl").read_text(encoding="utf-8").splitlines()
    leaf = json.loads(leaves[2])
    leaf["entry"] = leaf["entry"].replace('"kind":', '"kind": ', 1)  # the same meaning, other bytes: another leaf hash
    leaves[2] = json.dumps(leaf, ensure_ascii=False)
    (bundle / "leaves.jsonl").write_text("\n".join(leaves) + "\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, str(TOOL), str(bundle)], capture_output=True, text=True)
    assert bad.returncode == 1 and "leaf 2" in bad.stderr, bad.stderr


@pytest.mark.slow
def test_a_review_decision_and_an_auditors_read_altered_are_detected(
    store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision made through the review service (mmi.review) and an auditor's read of the provenance service, each
    logged in its own transaction; then each row altered behind the services' back: exit 1, naming the row. (The
    workbench's index: its queue holds an item, which the 150 people of `built` do not.)"""
    settings, engine = build_index(tmp_path / "feeds", store_url)
    monkeypatch.setenv("MMI_STORE_URL", store_url)
    feeds = tmp_path / "feeds"
    steward = Principal("li.steward", "steward")
    item = review.queue_page(engine, steward, limit=1).items[0]
    if item.kind == "cluster":  # take one record out of the cluster
        asked = DecisionRequest(decision="split", reason="其中一条记录属于另一人", record=item.records[-1])
    else:
        asked = DecisionRequest(decision="not_match", reason="两个人：出生日期不同")
    created = review.decide(engine, steward, item.id, asked, exchange_settings(settings).subscriptions)
    with engine.connect() as connection:
        master_id = connection.execute(text("SELECT min(master_id) FROM master_record WHERE status = 'active'")).scalar_one()
    provenance.master(engine, Principal("auditor-1", "auditor"), master_id)
    code, output = verify(feeds, capsys)
    assert code == 0, output
    cases = {
        "review decision": (
            lambda: _edit(engine, "review_decision", "reason", f"id = {created.id}"),
            f"review_decision {created.id}: its values differ",
        ),
        "auditor's read": (lambda: _edit(engine, "audit_read", "target", "id = (SELECT max(id) FROM audit_read)"), "audit_read"),
    }
    each_detected(cases, engine, store_url, feeds, capsys, tmp_path)
    engine.dispose()
