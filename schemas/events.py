"""The master event: what one linkage run did to one master, as linkage decides it and the outbox stores it.

linkage.master_ids decides membership events (create, update, merge, split, retire); mmi.index.events adds the
golden-value updates and writes each as a `master_event` row (the outbox), which the exchange turns into the
change-set schema's Event records (schemas/changeset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MasterEvent", "Operation"]

Operation = Literal["create", "update", "merge", "split", "retire"]


@dataclass(frozen=True)
class MasterEvent:
    operation: Operation
    master_id: str
    before: frozenset[str] = frozenset()  # the master's records before the run
    after: frozenset[str] = frozenset()  # and after it
    related: tuple[str, ...] = ()  # merge: the IDs absorbed; split: the IDs split from; retire: the successor, if any
