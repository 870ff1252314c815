"""`mmi audit verify`: recompute the log from the store and the change-set files, and say where they differ.

1. Every checkpoint's signature, by the log's public key (`[audit] public_key`): a checkpoint re-signed with any
   other key fails here.
2. The leaves, numbered 0..n-1 without a gap, each leaf hash recomputed from its entry; the tree rebuilt leaf by
   leaf, and its root at each checkpoint's size compared with the signed one. Every checkpoint being a prefix
   root of the one tree is what consistency between them means; a log shorter than a checkpoint is truncated.
   With `--since-checkpoint FILE` (a checkpoint a department kept), that one is checked the same way.
3. Every logged row: found again by its key and its digest recomputed (mmi.audit.log); a row missing, added
   outside the service, or changed is named. Source payloads are checked against their logged checksum; an
   erased payload (the empty text `mmi audit redact` leaves) is reported as redacted, not as a difference.
   Change-set files are hashed and compared with the logged SHA-256, their events with the logged list.
4. The state tables against what the logged events produce (mmi.audit.state).

The result names the first difference; every one found is listed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, Table, func, select

from mmi.audit.checkpoints import Checkpoint, open_note
from mmi.audit.exchange import events_digest
from mmi.audit.log import key_columns, plain, row_digest
from mmi.audit.merkle import Frontier, leaf_hash
from mmi.audit.state import compare_state
from mmi.store.audit_tables import audit_checkpoint, audit_head, audit_leaf
from mmi.store.exchange_tables import changeset_event
from mmi.store.tables import metadata
from mmi.store.token_tables import token_revocation as _declared  # noqa: F401 - declares the table in metadata

_STREAM = {"stream_results": True, "yield_per": 5000}
# Tables whose every row must be in the log (a linkage run only once done).
_FULLY_LOGGED = (
    "source_record",
    "service_event",
    "linkage_run",
    "master_event",
    "changeset",
    "changeset_download",
    "subscriber_position",
    "link_constraint",
    "token_revocation",
    "audit_read",
)


@dataclass
class Report:
    leaves: int = 0
    checkpoints: int = 0
    rows_checked: int = 0
    problems: list[str] = field(default_factory=list)
    redacted: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Logged:
    index: int
    entry: dict[str, Any]
    matched: bool = False


def verify_store(engine: Engine, verifier: str, out_dir: Path | None, since_note: str | None = None) -> Report:
    """Check everything the log covers; a report of what differs (empty problems: intact)."""
    report = Report()
    with engine.connect() as connection:
        checkpoints = _checkpoints(connection, verifier, report)
        if since_note is not None:
            try:
                checkpoints.append(open_note(since_note, verifier))
            except ValueError as error:
                report.problems.append(f"the checkpoint given with --since-checkpoint: {error}")
        logged = _leaves(connection, checkpoints, report)
        for table_name in sorted({key[0] for key in logged} | set(_FULLY_LOGGED)):
            if table_name in metadata.tables:
                _check_table(connection, metadata.tables[table_name], logged, out_dir, report)
        for (table_name, key), item in sorted(logged.items(), key=lambda pair: pair[1].index):
            if not item.matched and table_name in metadata.tables:
                report.problems.append(
                    f"{table_name} {key}: logged at leaf {item.index} ({item.entry['kind']}), but the row is missing (deleted)"
                )
        report.problems += list(compare_state(connection))
    return report


def _checkpoints(connection: Connection, verifier: str, report: Report) -> list[Checkpoint]:
    good = []
    for size, root_hex, note in connection.execute(
        select(audit_checkpoint.c.tree_size, audit_checkpoint.c.root_hash, audit_checkpoint.c.note).order_by(audit_checkpoint.c.tree_size)
    ):
        report.checkpoints += 1
        try:
            opened = open_note(note, verifier)
        except ValueError as error:
            report.problems.append(f"checkpoint at size {size}: {error} (re-signed, or not made by this log)")
            continue
        if opened.size != size or opened.root.hex() != root_hex:
            report.problems.append(
                f"checkpoint at size {size}: its row says size {size} root {root_hex[:16]}…, the signed note says "
                f"size {opened.size} root {opened.root.hex()[:16]}…"
            )
        good.append(opened)
    return good


def _leaves(connection: Connection, checkpoints: list[Checkpoint], report: Report) -> dict[tuple[str, str], _Logged]:
    """Check the leaves and the tree; the latest leaf of each logged row, by (table, key)."""
    at_size: dict[int, list[Checkpoint]] = {}
    for point in checkpoints:
        at_size.setdefault(point.size, []).append(point)
    frontier = Frontier()
    logged: dict[tuple[str, str], _Logged] = {}
    query = select(audit_leaf.c.idx, audit_leaf.c.entry, audit_leaf.c.leaf_hash).order_by(audit_leaf.c.idx)
    for idx, entry_text, stored_hash in connection.execution_options(**_STREAM).execute(query):
        if idx != frontier.size:
            report.problems.append(f"leaf {frontier.size}: missing from the log (the next leaf is {idx}): a leaf was deleted")
            break
        digest = leaf_hash(entry_text.encode("utf-8"))
        if digest.hex() != stored_hash:
            report.problems.append(f"leaf {idx}: its stored leaf hash does not match its entry (one of them was edited)")
        frontier.append(digest)
        for point in at_size.pop(frontier.size, []):
            if frontier.root() != point.root:
                report.problems.append(
                    f"checkpoint at size {point.size}: the log's leaves 0..{point.size - 1} give another root "
                    "(a leaf was changed, removed or reordered)"
                )
        entry = _entry(entry_text, idx, report)
        if entry is not None and "table" in entry and "key" in entry and entry.get("kind") != "redaction":
            logged[(str(entry["table"]), _key_text(entry["key"]))] = _Logged(idx, entry)
    report.leaves = frontier.size
    head = connection.execute(select(audit_head.c.size)).scalar_one_or_none()
    for size in sorted(at_size):
        report.problems.append(f"the log is truncated: checkpoint at size {size} signs {size} leaves, the log holds {frontier.size}")
    if head is not None and int(head) != frontier.size and not at_size:
        report.problems.append(f"the log's head says {head} leaves, the log holds {frontier.size} (truncated or edited)")
    return logged


def _entry(text: str, idx: int, report: Report) -> dict[str, Any] | None:
    try:
        value = msgspec.json.decode(text)  # json.loads' result for the log's own entries, three times faster
    except msgspec.DecodeError:
        report.problems.append(f"leaf {idx}: its entry is not JSON")
        return None
    return value if isinstance(value, dict) else None


def _key_text(key: Any) -> str:
    return "|".join(map(str, key)) if isinstance(key, list) else str(key)


def _check_table(
    connection: Connection, table: Table, logged: dict[tuple[str, str], _Logged], out_dir: Path | None, report: Report
) -> None:
    keys = key_columns(table)
    carried = _carried(connection) if table.name == "changeset" else {}
    for row in connection.execution_options(**_STREAM).execute(select(table).order_by(*table.primary_key.columns)):
        values = row._mapping
        key = _key_text([plain(values[name]) for name in keys])
        report.rows_checked += 1
        item = logged.get((table.name, key))
        if item is None:
            if table.name != "linkage_run" or values["status"] == "done":
                report.problems.append(f"{table.name} {key}: not in the log (added or changed outside the service)")
            continue
        item.matched = True
        for problem in _differences(table, values, item, key, out_dir, carried, report):
            report.problems.append(f"{table.name} {key}: {problem} (logged at leaf {item.index})")


def _differences(
    table: Table, values: Any, item: _Logged, key: str, out_dir: Path | None, carried: dict[tuple[str, int], list[int]], report: Report
) -> Iterator[str]:
    entry = item.entry
    if row_digest(table, values) != entry.get("row_sha256"):
        yield "its values differ from the logged ones"
    if "payload_sha256" in entry and "payload" in table.c:
        payload = values["payload"]
        if payload == "":
            report.redacted.append(f"{table.name} {key}: payload redacted (erased; its checksum stays logged at leaf {item.index})")
        elif hashlib.sha256(payload.encode("utf-8")).hexdigest() != entry["payload_sha256"]:
            yield "its source payload differs from the one logged"
    if table.name == "changeset":
        yield from _changeset_differences(values, entry, out_dir, carried)


def _changeset_differences(
    values: Any, entry: dict[str, Any], out_dir: Path | None, carried: dict[tuple[str, int], list[int]]
) -> Iterator[str]:
    if events_digest(carried.get((values["subscriber"], values["seq"]), [])) != entry.get("events_sha256"):
        yield "the events it carries (changeset_event) differ from the logged ones"
    if out_dir is None:
        return
    path = out_dir / values["file_name"]
    try:
        content = path.read_bytes()
    except OSError:
        yield f"its file {path} is missing"
        return
    if hashlib.sha256(content).hexdigest() != entry.get("file_sha256"):
        yield f"its file {path} differs from the one published (SHA-256 logged)"


def _carried(connection: Connection) -> dict[tuple[str, int], list[int]]:
    carried: dict[tuple[str, int], list[int]] = {}
    query = select(changeset_event.c.subscriber, changeset_event.c.changeset_seq, changeset_event.c.outbox_seq)
    for subscriber, seq, outbox_seq in connection.execution_options(**_STREAM).execute(query):
        carried.setdefault((subscriber, seq), []).append(outbox_seq)
    return carried


def count_leaves(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(audit_leaf)).scalar_one())
