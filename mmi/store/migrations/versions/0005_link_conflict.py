"""linkage: pairs scored above the match threshold that an identity-conflict rule refused (stewards' conflicts)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_conflict",
        sa.Column("left_key", sa.String(length=100), nullable=False),
        sa.Column("right_key", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("conflicting_left_key", sa.String(length=100), nullable=False),
        sa.Column("conflicting_right_key", sa.String(length=100), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("left_master_id", sa.String(length=16), nullable=True),
        sa.Column("right_master_id", sa.String(length=16), nullable=True),
        sa.Column("model_version_id", Id, nullable=False),
        sa.Column("run_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"], name=op.f("fk_link_conflict_model_version_id_model_version")),
        sa.ForeignKeyConstraint(["run_id"], ["linkage_run.id"], name=op.f("fk_link_conflict_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("left_key", "right_key", name=op.f("pk_link_conflict")),
    )
    with op.batch_alter_table("link_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_conflict_right_key"), ["right_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("link_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_conflict_right_key"))
    op.drop_table("link_conflict")
