"""The tamper-evident log's tables (mmi.audit).

- `audit_leaf`: one row per leaf of the Merkle tree, numbered from 0 without gaps, in the order appended. `entry`
  is the leaf's data (canonical JSON: what changed, named by keys and hashes, never personal data), `leaf_hash`
  its RFC 6962 leaf hash. `table_name`/`row_key` say which store row the entry stands for, so the verifier can
  find it again; they are outside the hash and only a guide (the entry holds the same key).
- `audit_head`: always one row (made by the migration): the tree's size and its frontier (the roots of the
  perfect subtrees of the tree), so an append costs O(log n) and locks this row until its transaction commits.
- `audit_checkpoint`: every signed checkpoint (C2SP signed note) the log made, by tree size.
- `audit_read`: every read of the provenance service (mmi.provenance) by an auditor or admin: who, when, through
  which channel, what (a master, a record version, a disclosure query, a search). A search's terms are kept only
  as a keyed HMAC-SHA-256 (`query_sha256`; mmi.audit.read_terms) when they are an ID number or a name; master IDs
  and record keys are kept as they are. Each row is also a leaf of the log (kind `audit_read`), so a read cannot be removed without a trace.
- `audit_verification`: the result of each `mmi audit verify` (outside the log: it describes the log).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from mmi.store.tables import Id, UTCDateTime, metadata

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

audit_read = Table(
    "audit_read",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("channel", String(8), nullable=False),  # api, page
    Column("what", String(16), nullable=False),  # master, record, disclosures, search
    Column("target", Text),  # a master ID or record key (department|source_key|version); NULL when only hashed
    Column("query_kind", String(16)),  # searches and disclosures: id_number, name, master_id, record_key
    Column("query_sha256", String(64)),  # HMAC-SHA-256 of an ID number or name searched for (mmi.audit.read_terms)
    Column("as_of", UTCDateTime),  # a master read as of a time
    Column("results", Integer, nullable=False),
    Column("read_at", UTCDateTime, nullable=False),
    Index("ix_audit_read_read_at", "read_at"),
)

audit_verification = Table(
    "audit_verification",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("ran_by", String(128), nullable=False),
    Column("intact", Boolean, nullable=False),
    Column("leaves", BigInteger, nullable=False),
    Column("checkpoints", Integer, nullable=False),
    Column("rows_checked", BigInteger, nullable=False),
    Column("redacted", Integer, nullable=False),
    Column("problems", Integer, nullable=False),
    Column("first_problem", Text),
)
