"""heartbeats: who runs an ingest batch or a link run, and when it last said it was alive (mmi.store.heartbeat)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("ingest_batch", "linkage_run")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("host", sa.String(length=255), nullable=True))
        op.add_column(table, sa.Column("pid", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("heartbeat_at")
            batch.drop_column("pid")
            batch.drop_column("host")
