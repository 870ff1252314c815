"""index: model versions, runs, master records, xref, pairs, constraints, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("term_frequencies", sa.Text(), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("trained_by", sa.String(length=128), nullable=False),
        sa.Column("trained_on", sa.Text(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version")),
        sa.UniqueConstraint("sha256", name=op.f("uq_model_version_sha256")),
    )
    op.create_table(
        "linkage_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("model_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("match_threshold", sa.Float(), nullable=False),
        sa.Column("review_threshold", sa.Float(), nullable=False),
        sa.Column("records_changed", sa.Integer(), nullable=False),
        sa.Column("records_reclustered", sa.Integer(), nullable=False),
        sa.Column("pairs_scored", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_linkage_run_model_version_id_model_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_run")),
    )
    op.create_table(
        "link_constraint",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("left_key", sa.String(length=100), nullable=False),
        sa.Column("right_key", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("applied_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(["applied_run_id"], ["linkage_run.id"], name=op.f("fk_link_constraint_applied_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_constraint")),
        sa.UniqueConstraint("left_key", "right_key", name=op.f("uq_link_constraint_left_key_right_key")),
    )
    op.create_table(
        "master_event",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("related", sa.Text(), nullable=False),
        sa.Column("records_before", sa.Text(), nullable=False),
        sa.Column("records_after", sa.Text(), nullable=False),
        sa.Column("golden_before", sa.Text(), nullable=True),
        sa.Column("golden_after", sa.Text(), nullable=True),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.Column("lineage", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_master_event_model_version_id_model_version")),
        sa.ForeignKeyConstraint(["run_id"], ["linkage_run.id"], name=op.f("fk_master_event_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_master_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_master_event_event_id")),
    )
    with op.batch_alter_table("master_event", schema=None) as batch_op:
        batch_op.create_index("ix_master_event_master_id", ["master_id"], unique=False)
        batch_op.create_index("ix_master_event_run_id", ["run_id"], unique=False)

    op.create_table(
        "master_record",
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("successor_id", sa.String(length=16), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("created_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("name_pinyin", sa.String(length=160), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("ethnicity", sa.String(length=2), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("hukou_region", sa.String(length=6), nullable=True),
        sa.Column("current_district", sa.String(length=6), nullable=True),
        sa.Column("current_address", sa.Text(), nullable=True),
        sa.Column("residence_start", sa.Date(), nullable=True),
        sa.Column("permit_number", sa.String(length=32), nullable=True),
        sa.Column("employer", sa.Text(), nullable=True),
        sa.Column("insurance_status", sa.String(length=32), nullable=True),
        sa.Column("health_record_no", sa.String(length=32), nullable=True),
        sa.Column("lineage", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["created_run_id"], ["linkage_run.id"], name=op.f("fk_master_record_created_run_id_linkage_run")),
        sa.ForeignKeyConstraint(["updated_run_id"], ["linkage_run.id"], name=op.f("fk_master_record_updated_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("master_id", name=op.f("pk_master_record")),
    )
    with op.batch_alter_table("master_record", schema=None) as batch_op:
        batch_op.create_index("ix_master_record_current_district", ["current_district"], unique=False)
        batch_op.create_index("ix_master_record_status", ["status"], unique=False)

    op.create_table(
        "match_pair",
        sa.Column("left_key", sa.String(length=100), nullable=False),
        sa.Column("right_key", sa.String(length=100), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("model_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_match_pair_model_version_id_model_version")),
        sa.ForeignKeyConstraint(["run_id"], ["linkage_run.id"], name=op.f("fk_match_pair_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("left_key", "right_key", name=op.f("pk_match_pair")),
    )
    with op.batch_alter_table("match_pair", schema=None) as batch_op:
        batch_op.create_index("ix_match_pair_match_probability", ["match_probability"], unique=False)
        batch_op.create_index("ix_match_pair_right_key", ["right_key"], unique=False)

    op.create_table(
        "master_xref",
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["master_id"], ["master_record.master_id"], name=op.f("fk_master_xref_master_id_master_record")),
        sa.ForeignKeyConstraint(["run_id"], ["linkage_run.id"], name=op.f("fk_master_xref_run_id_linkage_run")),
        sa.ForeignKeyConstraint(["source_record_id"], ["source_record.id"], name=op.f("fk_master_xref_source_record_id_source_record")),
        sa.PrimaryKeyConstraint("department", "source_key", name=op.f("pk_master_xref")),
    )
    with op.batch_alter_table("master_xref", schema=None) as batch_op:
        batch_op.create_index("ix_master_xref_master_id", ["master_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("master_xref", schema=None) as batch_op:
        batch_op.drop_index("ix_master_xref_master_id")

    op.drop_table("master_xref")
    with op.batch_alter_table("match_pair", schema=None) as batch_op:
        batch_op.drop_index("ix_match_pair_right_key")
        batch_op.drop_index("ix_match_pair_match_probability")

    op.drop_table("match_pair")
    with op.batch_alter_table("master_record", schema=None) as batch_op:
        batch_op.drop_index("ix_master_record_status")
        batch_op.drop_index("ix_master_record_current_district")

    op.drop_table("master_record")
    with op.batch_alter_table("master_event", schema=None) as batch_op:
        batch_op.drop_index("ix_master_event_run_id")
        batch_op.drop_index("ix_master_event_master_id")

    op.drop_table("master_event")
    op.drop_table("link_constraint")
    op.drop_table("linkage_run")
    op.drop_table("model_version")
