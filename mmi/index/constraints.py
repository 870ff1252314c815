"""Must-link and cannot-link decisions: a steward's word on a pair of records, honoured by every later run.

A decision names two source records by their keys ("department|source_key"). One decision per pair: a new one
replaces the old. A decision is pending until a run has applied it; an incremental run reclusters the records
of pending decisions even when the records themselves did not change.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import Engine, and_, delete, insert, select

from linkage.clustering import Pair, ordered
from mmi.audit.log import append
from mmi.store.index_tables import link_constraint
from mmi.store.tables import source_record
from schemas.errors import LinkageError

Kind = Literal["must_link", "cannot_link"]


def add_constraint(
    engine: Engine, kind: Kind, record_a: str, record_b: str, *, reason: str, decided_by: str, now: dt.datetime | None = None
) -> int:
    """Store a decision on the pair (replacing any earlier one); the next `mmi link` applies it."""
    if kind not in ("must_link", "cannot_link"):
        raise LinkageError(f"unknown constraint kind {kind!r}: use must_link or cannot_link")
    if record_a == record_b:
        raise LinkageError(f"a constraint needs two different records, got {record_a!r} twice")
    left, right = ordered(record_a, record_b)
    with engine.begin() as connection:
        for key in (left, right):
            department, _, source_key = key.partition("|")
            exists = connection.execute(
                select(source_record.c.id)
                .where(source_record.c.department == department, source_record.c.source_key == source_key)
                .limit(1)
            ).first()
            if exists is None:
                raise LinkageError(
                    f"no source record {key!r}: name records as department|source_key (see `mmi export xref`)", record_key=key
                )
        connection.execute(delete(link_constraint).where(and_(link_constraint.c.left_key == left, link_constraint.c.right_key == right)))
        number = int(
            connection.execute(
                insert(link_constraint)
                .values(
                    kind=kind,
                    left_key=left,
                    right_key=right,
                    reason=reason,
                    decided_by=decided_by,
                    decided_at=now or dt.datetime.now(dt.UTC),
                )
                .returning(link_constraint.c.id)
            ).scalar_one()
        )
        row = connection.execute(select(link_constraint).where(link_constraint.c.id == number)).one()._mapping
        append(connection, "decision", table=link_constraint, row=row)  # a steward's decision, in the audit log
        return number


def stored_constraints(engine: Engine) -> tuple[list[Pair], list[Pair]]:
    """(must-link pairs, cannot-link pairs)."""
    with engine.connect() as connection:
        rows = connection.execute(select(link_constraint.c.kind, link_constraint.c.left_key, link_constraint.c.right_key)).all()
    return [(a, b) for kind, a, b in rows if kind == "must_link"], [(a, b) for kind, a, b in rows if kind == "cannot_link"]


def pending_constraint_keys(engine: Engine) -> set[str]:
    """The records named by decisions no run has applied yet."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(link_constraint.c.left_key, link_constraint.c.right_key).where(link_constraint.c.applied_run_id.is_(None))
        ).all()
    return {key for row in rows for key in row}
