"""Drop folders: departments deliver files into a folder; each file is taken once, by checksum.

Both file-based connectors (human resources CSV, statistics Avro) read the same way: the files not taken yet,
in name order; for each, the rows already stored by a run that stopped part-way (the stream's cursor names the
file by checksum and counts its stored rows); and, at the end, a checkpoint that marks the file taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import Checkpoint, SourceState, TakenFile, file_sha256
from connectors.source import setting
from schemas.errors import SourceError


@dataclass(frozen=True)
class DropFolderSettings:
    drop_dir: Path = setting(kind="path")


@dataclass(frozen=True)
class FileCursor:
    """Where a drop folder's stream stands: `rows_done` rows of the file with this checksum are stored (-1: all)."""

    file: str
    sha256: str
    rows_done: int

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "rows_done": self.rows_done}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FileCursor:
        return cls(str(value.get("file", "")), str(value.get("sha256", "")), int(value.get("rows_done", 0)))


@dataclass(frozen=True)
class DropFile:
    path: Path
    sha256: str
    size: int
    resume_after: int  # rows of this file stored by an earlier run that stopped part-way; 0 for a new file

    def position(self, stream: str, rows_done: int) -> Checkpoint:
        """A checkpoint inside the file: rows up to `rows_done` are complete."""
        return Checkpoint(stream, self._cursor(rows_done))

    def taken(self, stream: str) -> Checkpoint:
        """The checkpoint after the file's last row: never read it again, under any name."""
        return Checkpoint(stream, self._cursor(-1), TakenFile(self.path.name, self.sha256, self.size))

    def _cursor(self, rows_done: int) -> dict[str, Any]:
        return FileCursor(self.path.name, self.sha256, rows_done).as_json()


def new_files(department: str, drop_dir: Path, accept: Callable[[Path], bool], state: SourceState, stream: str) -> Iterator[DropFile]:
    """The files of `drop_dir` that `accept` takes (complete files of this feed) and that are not taken yet, in
    name order, each with where to resume."""
    if not drop_dir.is_dir():
        raise SourceError(department, f"drop folder {drop_dir} does not exist; fix sources.{department}.drop_dir", location=str(drop_dir))
    seen: set[str] = set()  # the same bytes twice in one pass (two empty days' files): taken once, like across runs
    for path in sorted((p for p in drop_dir.iterdir() if accept(p)), key=lambda p: p.name):
        sha256, size = file_sha256(path)
        if state.file_taken(sha256) or sha256 in seen:
            continue
        seen.add(sha256)
        stored = state.cursor(stream)
        cursor = FileCursor.from_json(stored) if stored else None
        resume_after = cursor.rows_done if cursor and cursor.sha256 == sha256 else 0
        yield DropFile(path, sha256, size, resume_after)
