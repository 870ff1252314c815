"""audit reads: auditors' reads of the provenance service, and the results of `mmi audit verify`

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_read",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("what", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("query_kind", sa.String(length=16), nullable=True),
        sa.Column("query_sha256", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_read")),
    )
    op.create_index("ix_audit_read_read_at", "audit_read", ["read_at"])
    op.create_table(
        "audit_verification",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("ran_by", sa.String(length=128), nullable=False),
        sa.Column("intact", sa.Boolean(), nullable=False),
        sa.Column("leaves", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints", sa.Integer(), nullable=False),
        sa.Column("rows_checked", sa.BigInteger(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("first_problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verification")),
    )


def downgrade() -> None:
    op.drop_table("audit_verification")
    op.drop_index("ix_audit_read_read_at", table_name="audit_read")
    op.drop_table("audit_read")
