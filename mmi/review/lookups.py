"""The index read by record key, as the review service needs it: each record's master, each master's records.

Record keys are `department|source_key`; tables keyed by both are asked once per department (`by_department`),
and every query takes its keys as one parameter however many there are (mmi.store.reads.key_in).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, select

from mmi.store.index_tables import master_xref
from mmi.store.reads import key_in


def by_department(keys: Collection[str]) -> dict[str, list[str]]:
    """Record keys as each department's source keys."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        department, _, source_key = key.partition("|")
        grouped[department].append(source_key)
    return grouped


def masters_of(connection: Connection, records: Collection[str]) -> dict[str, str]:
    """Record key → its master, for those of `records` the index holds."""
    found: dict[str, str] = {}
    for department, source_keys in by_department(records).items():
        query = select(master_xref.c.source_key, master_xref.c.master_id).where(
            master_xref.c.department == department, key_in(connection, master_xref.c.source_key, source_keys)
        )
        found |= {f"{department}|{source_key}": master for source_key, master in connection.execute(query)}
    return found


def members_of(connection: Connection, masters: Collection[str]) -> dict[str, str]:
    """Record key → master, for every record of `masters`."""
    query = select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id).where(
        key_in(connection, master_xref.c.master_id, masters)
    )
    return {f"{department}|{source_key}": master for department, source_key, master in connection.execute(query)}
