"""The log's writer: `append(connection, kind, ...)` adds leaves in the transaction of the change they record.

A leaf's data is an *entry*: canonical JSON (sorted keys, no spaces, UTF-8) naming what changed by its table and
key and committing to it by SHA-256, never carrying the values themselves. So personal data stays in the store's
tables, where it can be erased where the law requires, and the log still proves everything else.

Kinds and their canonical forms (`row_sha256` is `row_digest`: SHA-256 of the canonical JSON object of the row's
columns, minus the ones that legitimately change later or are hashed on their own):

| kind | table | key | also |
|---|---|---|---|
| `source_version` | source_record, service_event | department, source_key, version | `payload_sha256`: of the raw payload |
| `linkage_run` | linkage_run | id | `model_sha256`: the model version's hash |
| `master_event` | master_event | event_id (its `seq` is excluded) | |
| `changeset` | changeset | subscriber, seq | `file_sha256` of the file, `events_sha256` of its outbox numbers |
| `download` | changeset_download | id | |
| `acknowledgement` | subscriber_position | subscriber | |
| `decision` | link_constraint (applied_run_id excluded), or the review service's table: its primary key | | |
| `token` | none | | `token_sha256`, `jti`, `role`, `subject_sha256`, `issued_at`, `expires_at` |
| `revocation` | token_revocation | jti | (`mmi token revoke`) |
| `redaction` | the version's table | its key | `payload_sha256` erased, `reason` |
| `audit_read` | audit_read | id | (an auditor's read of the provenance service: who, what, when; mmi.provenance.reads) |

Steward decisions and approvals (the review service) call, in the transaction that stores the decision:
`append(connection, "decision", table=<its Table>, row=<the stored row as a mapping>)`; columns that change after
the decision is made (like `link_constraint.applied_run_id`) are named in `EXCLUDED`. A later row with the same key
replaces the earlier one: the verifier checks the latest entry of each key against the row.

Appends take the log's head row first (a row lock on PostgreSQL, the write lock on SQLite), so leaves are numbered
without gaps in commit order; callers append at the end of their transaction, to hold it briefly.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, Table, select, update

from mmi.audit.merkle import Frontier, leaf_hash
from mmi.store.audit_tables import audit_head, audit_leaf
from mmi.store.landing import bulk_insert
from schemas.canonical_json import canonical_bytes

KINDS = (
    "source_version",
    "linkage_run",
    "master_event",
    "changeset",
    "download",
    "acknowledgement",
    "decision",
    "token",
    "revocation",
    "redaction",
    "audit_read",
)
# Columns outside a row's digest: they change after the row is logged (or, for a payload, are checked on their own).
EXCLUDED: dict[str, tuple[str, ...]] = {
    "source_record": ("id", "is_current", "payload"),
    "service_event": ("id", "is_current", "payload"),
    "master_event": ("seq",),
    "link_constraint": ("id", "applied_run_id"),
    "linkage_run": ("heartbeat_at",),  # moves while the run is alive (mmi.store.heartbeat)
}
# The key a row is found again by, where it is not the primary key.
KEYS: dict[str, tuple[str, ...]] = {
    "source_record": ("department", "source_key", "version"),
    "service_event": ("department", "source_key", "version"),
    "master_event": ("event_id",),
    "link_constraint": ("left_key", "right_key"),
}


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value: what every hash of the log is taken over."""
    return canonical_bytes(value)


_AS_IS = frozenset({type(None), bool, int, str})


def plain(value: Any) -> Any:
    """A column value as the same JSON value whichever database it was read back from."""
    if type(value) in _AS_IS:  # the common case first: verify calls this for every column of every logged row
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def key_columns(table: Table) -> tuple[str, ...]:
    return KEYS.get(table.name) or tuple(column.name for column in table.primary_key.columns)


@functools.cache
def _digested(table: Table) -> tuple[str, ...]:
    """The columns of `table` a row's digest covers (all but `EXCLUDED`)."""
    excluded = EXCLUDED.get(table.name, ())
    return tuple(column.name for column in table.columns if column.name not in excluded)


# For a flat object of null, booleans, integers and strings (what `plain` makes of columns), msgspec's sorted
# encoding gives the very bytes `canonical` does (keys in code-point order, non-ASCII as UTF-8, the same escapes:
# tests/mmi/audit/test_log_digest.py), five times faster; `mmi audit verify` digests every logged row with it.
_FLAT_ENCODER = msgspec.json.Encoder(order="sorted")


def row_digest(table: Table, row: Mapping[Any, Any]) -> str:
    """SHA-256 (hex) of the row's columns as canonical JSON, minus `EXCLUDED`; a column absent from `row` is null."""
    get = (row if isinstance(row, dict) else dict(row)).get  # a plain dict's get: a database row's is much slower
    values = {name: value if type(value := get(name)) in _AS_IS else plain(value) for name in _digested(table)}
    try:
        data = _FLAT_ENCODER.encode(values)
    except (OverflowError, msgspec.EncodeError, UnicodeEncodeError):  # an integer beyond 64 bits, a lone surrogate
        data = canonical(values)
    return hashlib.sha256(data).hexdigest()


def row_entry(kind: str, table: Table, row: Mapping[Any, Any], **extra: Any) -> dict[str, Any]:
    """The entry for a stored row: its table, its key, its digest, and what else the kind commits to."""
    key = [plain(row[name]) for name in key_columns(table)]
    return {"kind": kind, "table": table.name, "key": key, "row_sha256": row_digest(table, row), **extra}


def append(connection: Connection, kind: str, *, table: Table | None = None, row: Mapping[Any, Any] | None = None, **extra: Any) -> int:
    """Append one leaf, in `connection`'s transaction; its index. With `table` and `row`, the entry stands for
    that row (see the module's table); otherwise `extra` is the whole entry."""
    if (table is None) != (row is None):
        raise ValueError("append: give both table and row (an entry for a stored row), or neither")
    entry = row_entry(kind, table, row, **extra) if table is not None and row is not None else {"kind": kind, **extra}
    return append_entries(connection, [entry])


def append_rows(connection: Connection, kind: str, table: Table, rows: Iterable[Mapping[Any, Any]]) -> int:
    """Append one leaf per row (all of one table and kind); the index of the first."""
    return append_entries(connection, [row_entry(kind, table, row) for row in rows])


def source_entries(table: Table, rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """The entries of newly stored source versions: the row's digest and the raw payload's checksum."""
    return [row_entry("source_version", table, row, payload_sha256=row["payload_sha256"]) for row in rows]


def append_entries(connection: Connection, entries: Sequence[Mapping[Any, Any]]) -> int:
    """Append `entries` as leaves, numbered after the last; the index of the first (the size, when empty)."""
    for entry in entries:
        if entry.get("kind") not in KINDS:
            raise ValueError(f"unknown log entry kind {entry.get('kind')!r}: one of {KINDS}")
    # The UPDATE takes the head's lock before it is read: one appender at a time, leaves numbered in commit order.
    connection.execute(update(audit_head).where(audit_head.c.id == 1).values(size=audit_head.c.size))
    size, frontier_json = connection.execute(select(audit_head.c.size, audit_head.c.frontier).where(audit_head.c.id == 1)).one()
    first = int(size)
    if not entries:
        return first
    frontier = Frontier(first, [bytes.fromhex(node) for node in json.loads(frontier_json)])
    now = dt.datetime.now(dt.UTC)
    rows = []
    for offset, entry in enumerate(entries):
        data = canonical(dict(entry))
        digest = leaf_hash(data)
        frontier.append(digest)
        rows.append(
            {
                "idx": first + offset,
                "kind": entry["kind"],
                "table_name": entry.get("table"),
                "row_key": json.dumps(entry["key"], ensure_ascii=False) if "key" in entry else None,
                "entry": data.decode("utf-8"),
                "leaf_hash": digest.hex(),
                "logged_at": now,
            }
        )
    bulk_insert(connection, audit_leaf, rows)
    connection.execute(
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(size=frontier.size, frontier=json.dumps([node.hex() for node in frontier.nodes]))
    )
    return first


def tree_head(connection: Connection) -> tuple[int, bytes]:
    """The log's size and root hash as of this connection's view."""
    size, frontier_json = connection.execute(select(audit_head.c.size, audit_head.c.frontier).where(audit_head.c.id == 1)).one()
    return int(size), Frontier(int(size), [bytes.fromhex(node) for node in json.loads(frontier_json)]).root()


def leaf_hashes(connection: Connection, size: int) -> list[bytes]:
    """The first `size` leaf hashes, in order (for proofs)."""
    query = select(audit_leaf.c.leaf_hash).where(audit_leaf.c.idx < size).order_by(audit_leaf.c.idx)
    return [bytes.fromhex(value) for value in connection.execute(query).scalars()]
