"""Gaps in the outbox's numbering: the numbers the publisher read past that were not there (yet).

On PostgreSQL a transaction takes its sequence numbers when it inserts and shows them when it commits, so a
reader can see 11 before 10. Reading "above the last number seen" would skip 10 for ever. The publisher instead
keeps every number it read past without finding an event as a gap, reads the gaps again on every run, and
removes a number from its gap once the event has been published. A number whose transaction rolled back stays a
gap for ever; that costs one row per range, and one indexed range look-up per run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    low: int
    high: int  # inclusive
    found_at: dt.datetime | None = None  # when first seen missing; None: found in this batch


def gaps_after(gaps: Sequence[Gap], found: Iterable[int], floor: int, new: Sequence[int]) -> list[Gap]:
    """The gaps once the events `found` in old gaps and the `new` events above `floor` (ascending) are published."""
    remaining = _subtract(gaps, sorted(set(found)))
    previous = floor
    for seq in new:
        if seq > previous + 1:
            remaining.append(Gap(previous + 1, seq - 1))
        previous = seq
    return remaining


def _subtract(gaps: Sequence[Gap], found: list[int]) -> list[Gap]:
    result: list[Gap] = []
    position = 0
    for gap in gaps:
        low = gap.low
        while position < len(found) and found[position] < gap.low:
            position += 1
        while position < len(found) and found[position] <= gap.high:
            if found[position] > low:
                result.append(Gap(low, found[position] - 1, gap.found_at))
            low = found[position] + 1
            position += 1
        if low <= gap.high:
            result.append(Gap(low, gap.high, gap.found_at))
    return result
