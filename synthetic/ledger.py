"""What was generated, for whoever measures the pipeline: truth.csv and delivered.csv.

- truth.csv (department, source_key, person): one row per distinct key of a good person record; the answer key
  for linkage accuracy. A row in an HR file still waiting for its .ok marker is good, so it is in truth; filter
  on delivered.csv (expected = record) for what a run can already see.
- delivered.csv (department, stream, source_key, location, expected): one row per physical row or item in the
  feeds, and for public security one per version of a row (each is pulled once). `expected` is what a correct
  pipeline must do with it: 'record' (read it), 'quarantine' (keep it aside with a reason), or 'pending' (not yet:
  its file has no .ok marker).

Both are written like the sample truth.csv (UTF-8, CRLF, by the csv module), as the feeds are generated.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

TRUTH_HEADER = ("department", "source_key", "person")
DELIVERED_HEADER = ("department", "stream", "source_key", "location", "expected")
RECORD, QUARANTINE, PENDING = "record", "quarantine", "pending"


class Ledger:
    """Appends to truth.csv and delivered.csv; `known` keys are never written to truth twice."""

    def __init__(self, out_dir: Path, append: bool = False, known: Iterable[tuple[str, str]] = ()) -> None:
        self._files = ExitStack()
        self._truth = self._open(out_dir / "truth.csv", TRUTH_HEADER, append)
        self._delivered = self._open(out_dir / "delivered.csv", DELIVERED_HEADER, append)
        self._known: dict[str, set[str]] = {}  # department → keys already in truth.csv
        for department, key in known:
            self._known.setdefault(department, set()).add(key)
        self.counts: Counter[tuple[str, str, str]] = Counter()  # (department, stream, expected) → rows

    def _open(self, path: Path, header: tuple[str, ...], append: bool) -> Any:
        handle = self._files.enter_context(open(path, "a" if append else "w", encoding="utf-8", newline=""))  # noqa: SIM115 (closed by close())
        writer = csv.writer(handle)
        if not append:
            writer.writerow(header)
        return writer

    def delivered(self, department: str, stream: str, source_key: str, location: str, expected: str) -> None:
        self._delivered.writerow((department, stream, source_key, location, expected))
        self.counts[department, stream, expected] += 1

    def truth(self, department: str, source_key: str, person_key: str) -> None:
        """Record that `source_key` is `person_key`; only for good rows, once per key."""
        known = self._known.setdefault(department, set())
        if source_key not in known:
            known.add(source_key)
            self._truth.writerow((department, source_key, person_key))

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def read_truth(out_dir: Path, people: set[str]) -> list[tuple[str, str, str]]:
    """The rows of truth.csv (department, source_key, person) for the given people, read as a stream."""
    with open(out_dir / "truth.csv", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        return [(department, key, person) for department, key, person in rows if person in people]


def mark_taken(out_dir: Path, file_name: str) -> int:
    """Rewrite delivered.csv so the rows of `file_name` that were 'pending' are 'record'; returns how many."""
    path = out_dir / "delivered.csv"
    changed = 0
    with open(path, encoding="utf-8", newline="") as source, open(path.with_suffix(".tmp"), "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        for row in csv.reader(source):
            if row[4] == PENDING and row[3].rsplit(":", 1)[0] == file_name:
                row[4] = RECORD
                changed += 1
            writer.writerow(row)
    path.with_suffix(".tmp").replace(path)
    return changed
