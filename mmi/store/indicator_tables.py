"""The indicators' analytics table: one row per indicator, area and date, what the pages and the API read.

- `indicator_snapshot`: the indicators computed as of a date (mmi.indicators), at every level (districts, cities,
  provinces, `all`), with the definition version, the Wilson interval, the linkage sensitivity and, for
  registration completeness, the Chapman estimate. A recomputation of the same date replaces that date's rows, so
  the DAG may run after every link run of a day; trends over months are a query over `as_of`.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table, UniqueConstraint

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
