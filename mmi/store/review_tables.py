"""The stewards' workbench tables: the review queue, the records each item is about, and stewards' decisions.

- `review_item`: one row per thing a steward should look at, of four kinds (pair, conflict, cluster,
  invalidated), named by a stable `item_key` so that a refresh after each link run updates the same row: an item
  keeps its ID while it stays in the queue, and leaves (status `resolved`, with why) when the index no longer
  raises it. `priority` is harm x uncertainty; `factors` says what it is made of, for the page.
- `review_item_record`: the records of each item with their department and district: what the district filter
  finds items by, on an index. The item's row keeps their summary (lowest and highest district, departments),
  which is what a jurisdiction and the department filter are checked against without a join.
- `review_decision`: each decision with who, when, why, the model version and the explanation the steward saw,
  a hash of the compared values and the record versions it was made on (a new version makes it `invalidated`
  in the queue). A decision on a published master is `proposed` until a different steward approves or rejects
  it; accepted decisions are written to `link_constraint` (mmi.index.constraints), which every run honours.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from mmi.store.index_tables import MASTER_ID, RECORD_KEY
from mmi.store.tables import Id, UTCDateTime, metadata

review_item = Table(
    "review_item",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_key", String(220), nullable=False, unique=True),  # kind:left~right, cluster:M…, invalidated:decision
    Column("kind", String(12), nullable=False),  # pair, conflict, cluster, invalidated
    Column("status", String(8), nullable=False),  # open, resolved
    Column("left_key", RECORD_KEY),  # pairs and conflicts
    Column("right_key", RECORD_KEY),
    Column("master_id", MASTER_ID),  # clusters
    Column("records", Text, nullable=False),  # JSON list of record keys
    Column("masters", Text, nullable=False),  # JSON list of master IDs
    Column("match_probability", Float),
    Column("match_weight", Float),
    Column("model_version_id", Id, ForeignKey("model_version.id")),
    Column("band", String(8)),  # low, middle, high: where the score sits
    # From the records, for filtering in the item's own row (review_item_record holds them one by one):
    Column("record_count", Integer, nullable=False),
    Column("district_low", String(6)),  # the lowest and highest district of its records; NULL if one has none
    Column("district_high", String(6)),
    Column("departments", String(200), nullable=False),  # ",health,public_security,": the departments of its records
    Column("priority", Float, nullable=False),
    Column("reason", Text, nullable=False),  # in words
    Column("factors", Text, nullable=False),  # JSON list of {name, value, note}
    Column("decision_id", Id),  # invalidated items: the decision whose records changed (no FK: the tables refer to each other)
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_run_id", Id, ForeignKey("linkage_run.id")),
    Column("refreshed_run_id", Id, ForeignKey("linkage_run.id")),
    Column("refreshed_at", UTCDateTime),  # the refresh that last raised it: open items a refresh did not raise leave
    Column("resolved_at", UTCDateTime),
    Column("resolution", String(32)),  # decided, gone (the index no longer raises it)
    Index("ix_review_item_status_priority", "status", "priority", "id"),
    Index("ix_review_item_kind_status", "kind", "status"),
    Index("ix_review_item_status_district_low", "status", "district_low", "district_high", "record_count"),
    Index("ix_review_item_status_departments", "status", "departments"),
)

# Splink's waterfall for a pair or conflict item, kept by the refresh (scoring one pair alone takes Splink ~0.3 s):
# apart from the item's row, so that scans of the queue read narrow rows.
review_explanation = Table(
    "review_explanation",
    metadata,
    Column("item_id", Id, ForeignKey("review_item.id"), primary_key=True, autoincrement=False),
    Column("explanation", Text, nullable=False),  # JSON (mmi.review.models.Explanation)
)

review_item_record = Table(
    "review_item_record",
    metadata,
    Column("item_id", Id, ForeignKey("review_item.id"), primary_key=True),
    Column("record_key", RECORD_KEY, primary_key=True),
    Column("department", String(32), nullable=False),
    Column("district", String(6)),  # the record's current_district; NULL: unknown (seen only by unrestricted stewards)
    Index("ix_review_item_record_record_key", "record_key"),
    Index("ix_review_item_record_district", "district", "item_id"),
    Index("ix_review_item_record_department", "department", "item_id"),
)

review_decision = Table(
    "review_decision",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("review_item.id"), nullable=False),
    Column("item_kind", String(12), nullable=False),
    Column("decision", String(12), nullable=False),  # match, not_match, split
    Column("status", String(12), nullable=False),  # proposed, accepted, rejected, superseded
    Column("reason", Text, nullable=False),
    Column("groups", Text, nullable=False),  # JSON list of lists of record keys (the records' grouping it asks for)
    Column("records", Text, nullable=False),  # JSON list of record keys
    Column("masters", Text, nullable=False),  # JSON list of the master IDs it was made on
    Column("constraints", Text, nullable=False),  # JSON list of [kind, left_key, right_key]
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("batch", String(36)),  # several items decided at once with one reason share a batch
    Column("model_version_id", Id, ForeignKey("model_version.id")),
    Column("explanation", Text),  # JSON: the explanation the steward was shown (pairs and conflicts)
    Column("values_sha256", String(64), nullable=False),  # of the records' compared values
    Column("record_versions", Text, nullable=False),  # JSON: record key → source version decided on
    Column("published_to", Text, nullable=False),  # JSON list of subscribers holding one of the masters
    Column("needs_approval", Boolean, nullable=False),
    Column("reviewed_by", String(128)),  # the second steward who approved or rejected it
    Column("reviewed_at", UTCDateTime),
    Column("review_reason", Text),
    Column("superseded_by", Id),
    Index("ix_review_decision_status", "status", "id"),
    Index("ix_review_decision_item_id", "item_id"),
)
