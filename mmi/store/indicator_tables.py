"""The indicators' analytics table: one row per indicator, area and date, what the pages and the API read.

- `indicator_snapshot`: the indicators computed as of a date (mmi.indicators), at every level (districts, cities,
  provinces, `all`), with the definition version, the Wilson interval, the linkage sensitivity and, for
  registration completeness, the Chapman estimate. A recomputation of the same date replaces that date's rows, so
  the DAG may run after every link run of a day; trends over months are a query over `as_of`.
- `worklist_state`: what each health subscriber's worklists held when its last worklist file was delivered (one
  row per subscriber, indicator and person): the previous state the next publish compares with, to say who
  entered and who left (mmi.exchange.worklists).
- `worklist_file`: which of a subscriber's numbered files (`changeset`, one sequence for both kinds) are worklist
  files, with the date they were computed as of and how many entered and left.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Table, UniqueConstraint

from mmi.store.exchange_tables import SUBSCRIBER
from mmi.store.index_tables import MASTER_ID
from mmi.store.tables import Id, UTCDateTime, metadata

indicator_snapshot = Table(
    "indicator_snapshot",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("indicator", String(48), nullable=False),
    Column("area", String(6), nullable=False),  # district (6 digits), city (4), province (2) or 'all'
    Column("level", String(8), nullable=False),  # district, city, province, all
    Column("as_of", Date, nullable=False),
    Column("definition_version", String(16), nullable=False),
    Column("numerator", Integer, nullable=False),
    Column("denominator", Integer, nullable=False),
    Column("rate", Float),  # NULL when the denominator is 0
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("target", Float),
    Column("meets_target", Boolean),
    Column("rate_with_review_links", Float),
    Column("rate_certain_links_only", Float),
    Column("chapman_estimate", Float),
    Column("chapman_ci_low", Float),
    Column("chapman_ci_high", Float),
    Column("linkage_run_id", Id, ForeignKey("linkage_run.id")),  # the index state computed from (its latest run)
    Column("computed_at", UTCDateTime, nullable=False),
    UniqueConstraint("indicator", "area", "as_of"),
    Index("ix_indicator_snapshot_as_of_level", "as_of", "level"),
)

worklist_state = Table(
    "worklist_state",
    metadata,
    Column("subscriber", SUBSCRIBER, primary_key=True),
    Column("indicator", String(48), primary_key=True),
    Column("master_id", MASTER_ID, primary_key=True),  # no foreign key: a master may be retired while still listed here
    Column("district", String(6)),
    Column("due_since", Date),
    Column("entered_seq", Integer, nullable=False),  # the worklist file that delivered the person's entry
)

worklist_file = Table(
    "worklist_file",
    metadata,
    Column("subscriber", SUBSCRIBER, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("as_of", Date, nullable=False),
    Column("definition_version", String(16), nullable=False),
    Column("entered", Integer, nullable=False),
    Column("left", Integer, nullable=False),
    ForeignKeyConstraint(["subscriber", "seq"], ["changeset.subscriber", "changeset.seq"]),
)
