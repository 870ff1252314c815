"""The `decision` leaves of the review service: one call, in the transaction that stores a decision or its review.

`log_decision(connection, decision_id)` appends the `review_decision` row as it now is, every `link_constraint` the
decision made, and any earlier decision it superseded (whose row it just changed). The verifier checks the latest
entry of each row's key against the row (mmi.audit.log, `decision`).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from mmi.audit.log import append_entries, row_entry
from mmi.store.index_tables import link_constraint
from mmi.store.review_tables import review_decision


def log_decision(connection: Connection, decision_id: int) -> None:
    from mmi.review.views import constraint_marker  # the review service sits above the log: imported when called

    decisions = connection.execute(
        select(review_decision)
        .where((review_decision.c.id == decision_id) | (review_decision.c.superseded_by == decision_id))
        .order_by(review_decision.c.id)
    )
    entries = [row_entry("decision", review_decision, row._mapping) for row in decisions]
    constraints = connection.execute(select(link_constraint).where(link_constraint.c.reason.like(constraint_marker(decision_id) + "%")))
    entries += [row_entry("decision", link_constraint, row._mapping) for row in constraints]
    append_entries(connection, entries)
