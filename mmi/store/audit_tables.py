"""The tamper-evident log's tables (mmi.audit).

- `audit_leaf`: one row per leaf of the Merkle tree, numbered from 0 without gaps, in the order appended. `entry`
  is the leaf's data (canonical JSON: what changed, named by keys and hashes, never personal data), `leaf_hash`
  its RFC 6962 leaf hash. `table_name`/`row_key` say which store row the entry stands for, so the verifier can
  find it again; they are outside the hash and only a guide (the entry holds the same key).
- `audit_head`: always one row (made by the migration): the tree's size and its frontier (the roots of the
  perfect subtrees of the tree), so an append costs O(log n) and locks this row until its transaction commits.
- `audit_checkpoint`: every signed checkpoint (C2SP signed note) the log made, by tree size.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from mmi.store.tables import UTCDateTime, metadata

audit_leaf = Table(
    "audit_leaf",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(24), nullable=False),
    Column("table_name", String(48)),
    Column("row_key", Text),
    Column("entry", Text, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("logged_at", UTCDateTime, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("size", BigInteger, nullable=False),
    Column("frontier", Text, nullable=False),  # JSON list of hex subtree roots, largest first
)

audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),  # the signed note, exactly as signed
    Column("made_at", UTCDateTime, nullable=False),
    Column("made_by", String(48), nullable=False),  # ingest, link, publish, or a command
)
