"""Failpoints: places where the publisher can be made to die, to prove a crash anywhere loses and repeats nothing.

`MMI_FAILPOINT=NAME` kills the process with SIGKILL (no clean-up, no flush, as a power cut would) the first time
it reaches NAME; `MMI_FAILPOINT=NAME:N` the N-th time. Unset, a failpoint costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

# In the order a publishing transaction reaches them.
FAILPOINTS = (
    "after_read",  # outbox events and gaps read, nothing written
    "after_file_written",  # one change-set file in place, not yet recorded
    "after_files_written",  # every file of the batch in place, no row written
    "before_commit",  # rows written, transaction open
    "after_commit",  # batch committed, stale files not yet removed
    "after_cleanup",  # files of change sets never recorded removed
)

_reached: Counter[str] = Counter()


def failpoint(name: str) -> None:
    wanted = os.environ.get("MMI_FAILPOINT")
    if not wanted:
        return
    if name not in FAILPOINTS:
        raise ValueError(f"unknown failpoint {name}")
    target, _, count = wanted.partition(":")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
