"""indicators: the analytics table of the equalization indicators (one row per indicator, area and date)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_snapshot",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("indicator", sa.String(length=48), nullable=False),
        sa.Column("area", sa.String(length=6), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("definition_version", sa.String(length=16), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("meets_target", sa.Boolean(), nullable=True),
        sa.Column("rate_with_review_links", sa.Float(), nullable=True),
        sa.Column("rate_certain_links_only", sa.Float(), nullable=True),
        sa.Column("chapman_estimate", sa.Float(), nullable=True),
        sa.Column("chapman_ci_low", sa.Float(), nullable=True),
        sa.Column("chapman_ci_high", sa.Float(), nullable=True),
        sa.Column("linkage_run_id", Id, nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["linkage_run_id"], ["linkage_run.id"], name=op.f("fk_indicator_snapshot_linkage_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_snapshot")),
        sa.UniqueConstraint("indicator", "area", "as_of", name=op.f("uq_indicator_snapshot_indicator_area_as_of")),
    )
    with op.batch_alter_table("indicator_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_snapshot_as_of_level", ["as_of", "level"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicator_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_snapshot_as_of_level")
    op.drop_table("indicator_snapshot")
