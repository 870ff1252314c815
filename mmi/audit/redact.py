"""`mmi audit redact`: erase a source version's raw payload where the law requires it, and log the erasure.

The payload becomes the empty text (the documented redacted state); its checksum, its standardised values and the
log's leaf stay, so `mmi audit verify` reports the version as redacted, not as tampered. The `redaction` leaf says
which version, the checksum of what was erased, and the reason given (which must not itself hold personal data).
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from mmi.audit.log import append_entries
from mmi.store.tables import VERSIONED_TABLES
from schemas.errors import MMIError


def redact(engine: Engine, record: str, version: int, reason: str, by: str) -> int:
    """Erase the payload of `record` (department|source_key) version `version`; the redaction's leaf index."""
    department, _, source_key = record.partition("|")
    with engine.begin() as connection:
        for table in VERSIONED_TABLES.values():
            where = (table.c.department == department, table.c.source_key == source_key, table.c.version == version)
            found = connection.execute(select(table.c.payload_sha256, table.c.payload).where(*where)).first()
            if found is None:
                continue
            if found.payload == "":
                raise MMIError(f"{record} version {version} is already redacted")
            connection.execute(update(table).where(*where).values(payload=""))
            return append_entries(
                connection,
                [
                    {
                        "kind": "redaction",
                        "table": table.name,
                        "key": [department, source_key, version],
                        "payload_sha256": found.payload_sha256,
                        "reason": reason,
                        "by": by,
                    }
                ],
            )
    raise MMIError(f"no source version {record} version {version}: name it as department|source_key and a version number")
