"""The exchange's tables: what was published from the outbox (`master_event`), to whom, and what they confirmed.

- `exchange_cursor` and `exchange_gap`: how far the publisher has read the outbox. Every event with a sequence
  number at or below `floor_seq` was published, except the numbers in a gap: numbers that were missing when the
  publisher read past them (an event committed later, or a transaction rolled back). Each run reads the gaps again
  as well as what lies above the floor, so an event committed late is never skipped, and gaps are kept until
  filled (a range costs one row however long it is).
- `exchange_batch`: one row per publishing transaction: the floor before and after, events read, files made.
- `changeset`: each subscriber's change sets, numbered 1, 2, 3... without gaps; the file (relative to the
  exchange folder), its SHA-256 and size, the schema version and fingerprint it was written with.
- `changeset_event`: which outbox event went to which subscriber in which change set; the key refuses a repeat.
- `subscriber_position`: the change set each subscriber acknowledged last.
- `changeset_download`: every download through the API, for auditors.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Table

from mmi.store.tables import Id, UTCDateTime, metadata

SUBSCRIBER = String(64)

exchange_cursor = Table(
    "exchange_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one outbox, one publisher's position
    Column("floor_seq", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

exchange_gap = Table(
    "exchange_gap",
    metadata,
    Column("low_seq", BigInteger, primary_key=True, autoincrement=False),  # the missing numbers low_seq..high_seq
    Column("high_seq", BigInteger, nullable=False),
    Column("found_at", UTCDateTime, nullable=False),
)

exchange_batch = Table(
    "exchange_batch",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("published_at", UTCDateTime, nullable=False),
    Column("floor_before", BigInteger, nullable=False),
    Column("floor_after", BigInteger, nullable=False),
    Column("events_read", Integer, nullable=False),
    Column("deliveries", Integer, nullable=False),  # (subscriber, event) pairs
    Column("changesets", Integer, nullable=False),
)

changeset = Table(
    "changeset",
    metadata,
    Column("subscriber", SUBSCRIBER, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("batch_id", Id, ForeignKey("exchange_batch.id"), nullable=False),
    Column("events", Integer, nullable=False),
    Column("first_outbox_seq", BigInteger, nullable=False),
    Column("last_outbox_seq", BigInteger, nullable=False),
    Column("file_name", String(200), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("schema_fingerprint", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

changeset_event = Table(
    "changeset_event",
    metadata,
    Column("subscriber", SUBSCRIBER, primary_key=True),
    Column("outbox_seq", Id, ForeignKey("master_event.seq"), primary_key=True, autoincrement=False),
    Column("changeset_seq", Integer, nullable=False),
    ForeignKeyConstraint(["subscriber", "changeset_seq"], ["changeset.subscriber", "changeset.seq"]),
    Index("ix_changeset_event_subscriber_changeset_seq", "subscriber", "changeset_seq"),
)

subscriber_position = Table(
    "subscriber_position",
    metadata,
    Column("subscriber", SUBSCRIBER, primary_key=True),
    Column("acknowledged_seq", Integer, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=False),
    Column("acknowledged_by", String(128), nullable=False),  # the token's subject
)

changeset_download = Table(
    "changeset_download",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber", SUBSCRIBER, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("subject", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("downloaded_at", UTCDateTime, nullable=False),
    Index("ix_changeset_download_subscriber", "subscriber", "seq"),
)
