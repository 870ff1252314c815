"""The master index's tables: what linkage decided, why, with which model, and every change it made.

- `model_version`: each trained Splink model (its settings JSON with m and u, the term frequencies it scores
  with, their hash), who trained it and on what. One is current; every run names the one it used.
- `linkage_run`: one row per `mmi link`, full or incremental, with its thresholds and counts.
- `master_record`: one row per master ID: the golden record (each field chosen by a survivorship rule), the
  source record version each field came from (`lineage`), and whether the ID is active or was retired.
- `master_xref`: which master each source record (department, key, version) belongs to.
- `match_pair`: every scored pair at or above the review threshold, with its probability: the links behind each
  cluster, and the review band (pairs below the match threshold) that stewards decide on.
- `link_constraint`: must-link and cannot-link decisions, honoured by every run.
- `master_event`: every change to a master (create, update, merge, split, retire) with its before and after, in
  commit order. It is the index's history and the outbox the exchange publishes from; it is written in the same
  transaction as the change itself.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from mmi.store.tables import Id, UTCDateTime, metadata, running_columns

MASTER_ID = String(16)
RECORD_KEY = String(100)  # "department|source_key", as linkage names a record

model_version = Table(
    "model_version",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),  # of settings and term frequencies together
    Column("settings", Text, nullable=False),  # Splink's model JSON, m and u probabilities included
    Column("term_frequencies", Text, nullable=False),  # JSON: column → {value: frequency}
    Column("trained_at", UTCDateTime, nullable=False),
    Column("trained_by", String(128), nullable=False),
    Column("trained_on", Text, nullable=False),  # JSON: records per department, newest source version id
    Column("is_current", Boolean, nullable=False),
)

linkage_run = Table(
    "linkage_run",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model_version_id", Id, ForeignKey("model_version.id"), nullable=False),
    Column("mode", String(16), nullable=False),  # full, incremental
    Column("status", String(16), nullable=False),  # running, done, failed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("match_threshold", Float, nullable=False),
    Column("review_threshold", Float, nullable=False),
    Column("records_changed", Integer, nullable=False, default=0),  # new or changed source versions scored
    Column("records_reclustered", Integer, nullable=False, default=0),
    Column("pairs_scored", Integer, nullable=False, default=0),
    Column("events", Integer, nullable=False, default=0),
    Column("error", Text),
    *running_columns(),
)

master_record = Table(
    "master_record",
    metadata,
    Column("master_id", MASTER_ID, primary_key=True),
    Column("status", String(8), nullable=False),  # active, retired
    Column("successor_id", MASTER_ID),  # a retired master merged into this one
    Column("record_count", Integer, nullable=False),
    Column("created_run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Column("updated_run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Column("name", String(64)),
    Column("name_pinyin", String(160)),
    Column("id_number", String(18)),
    Column("birth_date", Date),
    Column("sex", String(1)),
    Column("ethnicity", String(2)),
    Column("phone", String(20)),
    Column("hukou_region", String(6)),
    Column("current_district", String(6)),
    Column("current_address", Text),
    Column("residence_start", Date),
    Column("permit_number", String(32)),
    Column("employer", Text),
    Column("insurance_status", String(32)),
    Column("health_record_no", String(32)),
    Column("lineage", Text, nullable=False),  # JSON: each field's source version and rule (schemas.lineage)
    Index("ix_master_record_status", "status"),
    Index("ix_master_record_current_district", "current_district"),
    Index("ix_master_record_id_number", "id_number"),
)

master_xref = Table(
    "master_xref",
    metadata,
    Column("department", String(32), primary_key=True),
    Column("source_key", String(64), primary_key=True),
    Column("version", Integer, nullable=False),  # the source version last linked
    Column("source_record_id", Id, ForeignKey("source_record.id"), nullable=False),
    Column("master_id", MASTER_ID, ForeignKey("master_record.master_id"), nullable=False),
    Column("run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Index("ix_master_xref_master_id", "master_id"),
)

match_pair = Table(
    "match_pair",
    metadata,
    Column("left_key", RECORD_KEY, primary_key=True),  # left_key < right_key
    Column("right_key", RECORD_KEY, primary_key=True),
    Column("match_probability", Float, nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("model_version_id", Id, ForeignKey("model_version.id"), nullable=False),
    Column("run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Index("ix_match_pair_right_key", "right_key"),
    Index("ix_match_pair_match_probability", "match_probability"),
)

link_constraint = Table(
    "link_constraint",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # must_link, cannot_link
    Column("left_key", RECORD_KEY, nullable=False),  # left_key < right_key
    Column("right_key", RECORD_KEY, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("applied_run_id", Id, ForeignKey("linkage_run.id")),  # the first run that honoured it; NULL: pending
    UniqueConstraint("left_key", "right_key"),  # one decision per pair; a new decision replaces the old
)

master_event = Table(
    "master_event",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),  # UUID, for idempotent consumers
    Column("run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Column("model_version_id", Id, ForeignKey("model_version.id"), nullable=False),
    Column("operation", String(8), nullable=False),  # create, update, merge, split, retire
    Column("master_id", MASTER_ID, nullable=False),
    Column("related", Text, nullable=False),  # JSON list: merge → absorbed IDs; split → IDs split from; retire → successor
    Column("records_before", Text, nullable=False),  # JSON list of record keys
    Column("records_after", Text, nullable=False),
    Column("golden_before", Text),  # JSON object of golden fields; NULL for a create
    Column("golden_after", Text),  # NULL for a retire
    Column("changed_fields", Text, nullable=False),  # JSON list
    Column("lineage", Text, nullable=False),  # JSON: golden_after's fields' source versions (schemas.lineage)
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_master_event_master_id", "master_id"),
    Index("ix_master_event_run_id", "run_id"),
)

# Every master that has held a record, at any time (one merged away included): the auditors' way from a record to
# the masters its data went through (mmi.provenance), without reading every event's record lists. One row per
# record a master gained (an event's records_after less its records_before), written in the run's transaction with
# the events; derived from master_event (migration 0014 built it from the events before it), so not in the audit log.
master_held_record = Table(
    "master_held_record",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_key", RECORD_KEY, nullable=False),
    Column("master_id", MASTER_ID, nullable=False),
    Column("run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Index("ix_master_held_record_record_key", "record_key"),
)

# Pairs the model scored at or above the match threshold that an identity-conflict rule (linkage.conflicts) refused
# to join, directly or because joining them would put two conflicting records into one master. They are not links;
# they are the stewards' `conflict` items. Like `match_pair`, the rows touching the records a run re-scored are
# replaced by that run. `conflicting_left_key`/`conflicting_right_key` name the two records whose identities conflict
# (the pair itself for a direct conflict, two other records of the clusters for a chain).
link_conflict = Table(
    "link_conflict",
    metadata,
    Column("left_key", RECORD_KEY, primary_key=True),  # left_key < right_key: the refused link
    Column("right_key", RECORD_KEY, primary_key=True),
    Column("rule", String(48), nullable=False),  # the conflict rule's name
    Column("detail", Text, nullable=False),  # what the rule saw, for a person (no personal data beyond the keys)
    Column("conflicting_left_key", RECORD_KEY, nullable=False),
    Column("conflicting_right_key", RECORD_KEY, nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("left_master_id", MASTER_ID),  # the masters each side ended in after the run
    Column("right_master_id", MASTER_ID),
    Column("model_version_id", Id, ForeignKey("model_version.id"), nullable=False),
    Column("run_id", Id, ForeignKey("linkage_run.id"), nullable=False),
    Index("ix_link_conflict_right_key", "right_key"),
)
