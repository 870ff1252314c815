"""The log's state for an auditor: its size and root, the latest signed checkpoint, the leaves by kind, and the
last `mmi audit verify` result recorded (mmi.audit.commands records each run)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from mmi.audit.log import tree_head
from mmi.provenance.models import LogState, Verification
from mmi.store.audit_tables import audit_checkpoint, audit_leaf, audit_verification


def log_state(connection: Connection) -> LogState:
    size, root = tree_head(connection)
    latest = connection.execute(select(audit_checkpoint).order_by(audit_checkpoint.c.tree_size.desc()).limit(1)).one_or_none()
    kinds: dict[str, int] = {
        str(kind): int(count) for kind, count in connection.execute(select(audit_leaf.c.kind, func.count()).group_by(audit_leaf.c.kind))
    }
    verified = connection.execute(select(audit_verification).order_by(audit_verification.c.id.desc()).limit(1)).one_or_none()
    return LogState(
        tree_size=size,
        root_hash=root.hex(),
        checkpoint=latest.note if latest is not None else None,
        checkpoint_size=latest.tree_size if latest is not None else None,
        checkpoint_made_at=latest.made_at if latest is not None else None,
        leaves_by_kind=dict(sorted(kinds.items())),
        last_verification=Verification(**{k: v for k, v in verified._mapping.items() if k != "id"}) if verified is not None else None,
    )
