"""`mmi` with the tamper-evident log switched off, for bench/audit.py's `cost` measurement only.

    .venv/bin/python -m bench.audit_off ingest --config C     (any `mmi` command line)

The log's writer and its checkpoints are made no-ops by replacing their functions' code objects, so that every
module that imported them by name (landing, the index's writes, the exchange, the review service) is switched off
too, and the entries are not even built: what remains is the service without the log, on the same code. Never
used outside the benchmark.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from mmi.audit import checkpoints, log


def _no_append(connection: Any, entries: Sequence[Mapping[Any, Any]]) -> int:
    return 0


def _no_entries(table: Any, rows: Any) -> list[dict[str, Any]]:
    return []


def _no_entry(kind: str, table: Any, row: Any, **extra: Any) -> dict[str, Any]:
    return {}


def _no_checkpoint(connection: Any, audit: Any, made_by: str) -> str | None:
    return None


def switch_off() -> None:
    log.append_entries.__code__ = _no_append.__code__
    log.source_entries.__code__ = _no_entries.__code__
    log.row_entry.__code__ = _no_entry.__code__
    checkpoints.checkpoint.__code__ = _no_checkpoint.__code__


if __name__ == "__main__":
    switch_off()
    from mmi.cli import main

    sys.exit(main(sys.argv[1:]))
