"""Alembic environment: runs against the engine `mmi.store.database` hands over (no alembic.ini)."""

from alembic import context

from mmi.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
