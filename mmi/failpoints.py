"""Failpoints: places where a step (publish, link) can be made to die, to prove a crash anywhere loses and repeats
nothing.

`MMI_FAILPOINT=NAME` kills the process with SIGKILL (no clean-up, no flush, as a power cut would) the first time
it reaches NAME; `MMI_FAILPOINT=NAME:N` the N-th time. Unset, a failpoint costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

# In the order a publishing transaction reaches them (mmi.exchange.publisher).
PUBLISH_FAILPOINTS = (
    "after_read",  # outbox events and gaps read, nothing written
    "after_file_written",  # one change-set file in place, not yet recorded
    "after_files_written",  # every file of the batch in place, no row written
    "before_commit",  # rows written, transaction open
    "after_commit",  # batch committed, stale files not yet removed
    "after_cleanup",  # files of change sets never recorded removed
)
# In the order a link run reaches them (mmi.index.link, mmi.index.writes).
LINK_FAILPOINTS = (
    "link_after_start",  # the run's row written (running), the workspace not yet touched
    "link_after_score",  # pairs scored into the workspace, marked out of step
    "link_after_recluster",  # clusters, master IDs, golden records and events composed; nothing written
    "link_before_commit",  # the index's rows and events written, transaction open
    "link_after_commit",  # the store committed, the workspace not yet marked in step
    "link_after_workspace",  # workspace in step, the review queue and the audit checkpoint not yet refreshed
)
FAILPOINTS = PUBLISH_FAILPOINTS + LINK_FAILPOINTS

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
