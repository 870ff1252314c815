"""exchange: outbox cursor and gaps, batches, change sets, deliveries, positions, downloads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changeset_download",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changeset_download")),
    )
    with op.batch_alter_table("changeset_download", schema=None) as batch_op:
        batch_op.create_index("ix_changeset_download_subscriber", ["subscriber", "seq"], unique=False)

    op.create_table(
        "exchange_batch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("floor_before", sa.BigInteger(), nullable=False),
        sa.Column("floor_after", sa.BigInteger(), nullable=False),
        sa.Column("events_read", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("changesets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_batch")),
    )
    op.create_table(
        "exchange_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("floor_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_cursor")),
    )
    op.create_table(
        "exchange_gap",
        sa.Column("low_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("high_seq", sa.BigInteger(), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("low_seq", name=op.f("pk_exchange_gap")),
    )
    op.create_table(
        "subscriber_position",
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_seq", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("subscriber", name=op.f("pk_subscriber_position")),
    )
    op.create_table(
        "changeset",
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("first_outbox_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_outbox_seq", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("schema_fingerprint", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["exchange_batch.id"], name=op.f("fk_changeset_batch_id_exchange_batch")),
        sa.PrimaryKeyConstraint("subscriber", "seq", name=op.f("pk_changeset")),
        sa.UniqueConstraint("file_name", name=op.f("uq_changeset_file_name")),
    )
    op.create_table(
        "changeset_event",
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("outbox_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("changeset_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_seq"], ["master_event.seq"], name=op.f("fk_changeset_event_outbox_seq_master_event")),
        sa.ForeignKeyConstraint(
            ["subscriber", "changeset_seq"], ["changeset.subscriber", "changeset.seq"], name=op.f("fk_changeset_event_subscriber_changeset")
        ),
        sa.PrimaryKeyConstraint("subscriber", "outbox_seq", name=op.f("pk_changeset_event")),
    )
    with op.batch_alter_table("changeset_event", schema=None) as batch_op:
        batch_op.create_index("ix_changeset_event_subscriber_changeset_seq", ["subscriber", "changeset_seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("changeset_event", schema=None) as batch_op:
        batch_op.drop_index("ix_changeset_event_subscriber_changeset_seq")

    op.drop_table("changeset_event")
    op.drop_table("changeset")
    op.drop_table("subscriber_position")
    op.drop_table("exchange_gap")
    op.drop_table("exchange_cursor")
    op.drop_table("exchange_batch")
    with op.batch_alter_table("changeset_download", schema=None) as batch_op:
        batch_op.drop_index("ix_changeset_download_subscriber")

    op.drop_table("changeset_download")
