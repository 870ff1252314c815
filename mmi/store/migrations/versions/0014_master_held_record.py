"""provenance: every master that has held a record (record key → masters), built from the events already stored

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    held = op.create_table(
        "master_held_record",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("record_key", sa.String(length=100), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("run_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["linkage_run.id"], name=op.f("fk_master_held_record_run_id_linkage_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_held_record")),
    )
    # The same rule the link run's writer follows (mmi.index.writes): a master gains the records its event's
    # records_after has and its records_before had not, event by event in commit order.
    connection = op.get_bind()
    events = sa.table(
        "master_event",
        sa.column("seq"),
        sa.column("run_id"),
        sa.column("master_id"),
        sa.column("records_before"),
        sa.column("records_after"),
    )
    query = sa.select(events.c.run_id, events.c.master_id, events.c.records_before, events.c.records_after).order_by(events.c.seq)
    rows = []
    for run_id, master_id, before, after in connection.execute(query):
        gained = set(json.loads(after or "[]")) - set(json.loads(before or "[]"))
        rows += [{"record_key": key, "master_id": master_id, "run_id": run_id} for key in sorted(gained)]
        if len(rows) >= BATCH:
            connection.execute(held.insert(), rows)
            rows = []
    if rows:
        connection.execute(held.insert(), rows)
    with op.batch_alter_table("master_held_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_master_held_record_record_key"), ["record_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("master_held_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_master_held_record_record_key"))
    op.drop_table("master_held_record")
