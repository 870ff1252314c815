"""ingest: batches, versioned source records, quarantine, cursors

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
    )
    op.create_table(
        "ingest_cursor",
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_ingest_cursor_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("department", "stream", name=op.f("pk_ingest_cursor")),
    )
    op.create_table(
        "ingested_file",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_ingested_file_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingested_file")),
        sa.UniqueConstraint("department", "sha256", name=op.f("uq_ingested_file_department_sha256")),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("location_sha256", sa.String(length=64), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_quarantine_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "department",
            "stream",
            "payload_sha256",
            "location_sha256",
            name=op.f("uq_quarantine_department_stream_payload_sha256_location_sha256"),
        ),
    )
    op.create_table(
        "service_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.Column("quality_flags", sa.Text(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=32), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_service_event_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_event")),
        sa.UniqueConstraint("department", "source_key", "version", name=op.f("uq_service_event_department_source_key_version")),
    )
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.create_index("ix_service_event_current", ["department", "source_key", "is_current"], unique=False)
        batch_op.create_index("ix_service_event_person_key", ["person_key"], unique=False)

    op.create_table(
        "source_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.Column("quality_flags", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("name_pinyin", sa.String(length=160), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("id_valid", sa.Boolean(), nullable=True),
        sa.Column("masked_id_region", sa.String(length=6), nullable=True),
        sa.Column("masked_id_tail", sa.String(length=4), nullable=True),
        sa.Column("guardian_id_number", sa.String(length=18), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_year_month", sa.String(length=7), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("ethnicity", sa.String(length=2), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_tail", sa.String(length=4), nullable=True),
        sa.Column("hukou_region", sa.String(length=6), nullable=True),
        sa.Column("hukou_address", sa.Text(), nullable=True),
        sa.Column("current_district", sa.String(length=6), nullable=True),
        sa.Column("current_address", sa.Text(), nullable=True),
        sa.Column("residence_start", sa.Date(), nullable=True),
        sa.Column("permit_number", sa.String(length=32), nullable=True),
        sa.Column("registration_cancelled", sa.Boolean(), nullable=True),
        sa.Column("employer", sa.Text(), nullable=True),
        sa.Column("insurance_type", sa.String(length=32), nullable=True),
        sa.Column("insurance_status", sa.String(length=32), nullable=True),
        sa.Column("health_record_no", sa.String(length=32), nullable=True),
        sa.Column("health_record_date", sa.Date(), nullable=True),
        sa.Column("arrival_year", sa.Integer(), nullable=True),
        sa.Column("household_size", sa.Integer(), nullable=True),
        sa.Column("survey_wave", sa.String(length=16), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_source_record_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record")),
        sa.UniqueConstraint("department", "source_key", "version", name=op.f("uq_source_record_department_source_key_version")),
    )
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.create_index("ix_source_record_batch_id", ["batch_id"], unique=False)
        batch_op.create_index("ix_source_record_current", ["department", "source_key", "is_current"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_index("ix_source_record_current")
        batch_op.drop_index("ix_source_record_batch_id")

    op.drop_table("source_record")
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.drop_index("ix_service_event_person_key")
        batch_op.drop_index("ix_service_event_current")

    op.drop_table("service_event")
    op.drop_table("quarantine")
    op.drop_table("ingested_file")
    op.drop_table("ingest_cursor")
    op.drop_table("ingest_batch")
