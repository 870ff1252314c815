"""Every table of the store, for migrations and their tests: importing this module declares them all."""

from mmi.store import audit_tables, exchange_tables, index_tables, tables
from mmi.store.tables import metadata

__all__ = ["audit_tables", "exchange_tables", "index_tables", "metadata", "tables"]
