"""indexes for reading one area and one ID number: a worklist's area, a child's guardian

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_record_area"), ["department", "is_current", "current_district"], unique=False)
        batch_op.create_index(batch_op.f("ix_source_record_id_number"), ["id_number"], unique=False)
    with op.batch_alter_table("master_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_master_record_id_number"), ["id_number"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite plans without statistics until asked (mmi.store.database.refresh_statistics takes them after each
        # ingest and link run); sampled as there, so that migrating a large store does not read all of it.
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE")


def downgrade() -> None:
    with op.batch_alter_table("master_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_master_record_id_number"))
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_record_id_number"))
        batch_op.drop_index(batch_op.f("ix_source_record_area"))
