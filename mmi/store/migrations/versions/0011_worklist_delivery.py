"""worklists: the health subscribers' delivered worklist state and which numbered files are worklist files

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worklist_state",
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=48), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=6), nullable=True),
        sa.Column("due_since", sa.Date(), nullable=True),
        sa.Column("entered_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subscriber", "indicator", "master_id", name=op.f("pk_worklist_state")),
    )
    op.create_table(
        "worklist_file",
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("definition_version", sa.String(length=16), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber", "seq"], ["changeset.subscriber", "changeset.seq"], name=op.f("fk_worklist_file_subscriber_changeset")
        ),
        sa.PrimaryKeyConstraint("subscriber", "seq", name=op.f("pk_worklist_file")),
    )


def downgrade() -> None:
    op.drop_table("worklist_file")
    op.drop_table("worklist_state")
