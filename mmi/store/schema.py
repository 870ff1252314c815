"""Every table of the store, for migrations and their tests: importing this module declares them all."""

from mmi.store import audit_tables, exchange_tables, index_tables, indicator_tables, review_tables, tables, token_tables, web_tables
from mmi.store.tables import metadata

__all__ = [
    "audit_tables",
    "exchange_tables",
    "index_tables",
    "indicator_tables",
    "metadata",
    "review_tables",
    "tables",
    "token_tables",
    "web_tables",
]
