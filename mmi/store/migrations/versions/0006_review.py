"""review: the stewards' queue (items and their records) and decisions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_item",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("item_key", sa.String(length=220), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("left_key", sa.String(length=100), nullable=True),
        sa.Column("right_key", sa.String(length=100), nullable=True),
        sa.Column("master_id", sa.String(length=16), nullable=True),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("masters", sa.Text(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("match_weight", sa.Float(), nullable=True),
        sa.Column("model_version_id", Id, nullable=True),
        sa.Column("band", sa.String(length=8), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("district_low", sa.String(length=6), nullable=True),
        sa.Column("district_high", sa.String(length=6), nullable=True),
        sa.Column("departments", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("factors", sa.Text(), nullable=False),
        sa.Column("decision_id", Id, nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_run_id", Id, nullable=True),
        sa.Column("refreshed_run_id", Id, nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_review_item_model_version_id_model_version")),
        sa.ForeignKeyConstraint(["opened_run_id"], ["linkage_run.id"], name=op.f("fk_review_item_opened_run_id_linkage_run")),
        sa.ForeignKeyConstraint(["refreshed_run_id"], ["linkage_run.id"], name=op.f("fk_review_item_refreshed_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item")),
        sa.UniqueConstraint("item_key", name=op.f("uq_review_item_item_key")),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index("ix_review_item_kind_status", ["kind", "status"], unique=False)
        batch_op.create_index("ix_review_item_status_priority", ["status", "priority", "id"], unique=False)
        batch_op.create_index(
            "ix_review_item_status_district_low", ["status", "district_low", "district_high", "record_count"], unique=False
        )
        batch_op.create_index("ix_review_item_status_departments", ["status", "departments"], unique=False)

    op.create_table(
        "review_explanation",
        sa.Column("item_id", Id, autoincrement=False, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["review_item.id"], name=op.f("fk_review_explanation_item_id_review_item")),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_review_explanation")),
    )

    op.create_table(
        "review_decision",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("item_kind", sa.String(length=12), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("groups", sa.Text(), nullable=False),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("masters", sa.Text(), nullable=False),
        sa.Column("constraints", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("batch", sa.String(length=36), nullable=True),
        sa.Column("model_version_id", Id, nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("values_sha256", sa.String(length=64), nullable=False),
        sa.Column("record_versions", sa.Text(), nullable=False),
        sa.Column("published_to", sa.Text(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("superseded_by", Id, nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["review_item.id"], name=op.f("fk_review_decision_item_id_review_item")),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_review_decision_model_version_id_model_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
    )
    with op.batch_alter_table("review_decision", schema=None) as batch_op:
        batch_op.create_index("ix_review_decision_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_review_decision_status", ["status", "id"], unique=False)

    op.create_table(
        "review_item_record",
        sa.Column("item_id", Id, nullable=False),
        sa.Column("record_key", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["review_item.id"], name=op.f("fk_review_item_record_item_id_review_item")),
        sa.PrimaryKeyConstraint("item_id", "record_key", name=op.f("pk_review_item_record")),
    )
    with op.batch_alter_table("review_item_record", schema=None) as batch_op:
        batch_op.create_index("ix_review_item_record_department", ["department", "item_id"], unique=False)
        batch_op.create_index("ix_review_item_record_district", ["district", "item_id"], unique=False)
        batch_op.create_index("ix_review_item_record_record_key", ["record_key"], unique=False)


def downgrade() -> None:
    for table in ("review_item_record", "review_explanation", "review_decision", "review_item"):
        op.drop_table(table)
