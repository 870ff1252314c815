"""Read the daily `rs_cbdj_YYYYMMDD.csv` drop files.

A file is taken only once its `.ok` marker exists, in date order, and only once by checksum (a file copied
again under another name is not re-read). Lines are read as bytes and decoded one by one, so a row with bytes
that are not GB18030 is quarantined alone. A file cut short keeps its complete rows; the partial last row is
quarantined; a file whose header is not this feed's is quarantined whole. The cursor remembers how many rows of
the current file are stored, so a crash mid-file resumes after them instead of applying a repeated key twice.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Delivery, Row, SourceState, Unreadable
from connectors.drop_folder import DropFile, new_files
from schemas.dates import parse_date
from schemas.raw import RawPerson

STREAM = "rs_cbdj"
ENCODING = "gb18030"
FILE_NAME = re.compile(r"^rs_cbdj_(\d{8})\.csv$")
HEADER = (
    "个人编号",
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "户籍所在地",
    "参保地",
    "单位名称",
    "险种",
    "参保状态",
    "手机号码",
    "变更日期",
)
KEY = "个人编号"
CHECKPOINT_ROWS = 2000
CUT_SHORT = "the file ends in the middle of this row (cut short); ask the department to re-send the whole file"
_KEY = re.compile(rb"^\s*([A-Za-z0-9_-]{1,64}),")


class HumanResourcesConnector:
    department = "human_resources"

    def __init__(self, drop_dir: Path) -> None:
        self.drop_dir = drop_dir

    def deliveries(self, state: SourceState) -> Iterator[Delivery]:
        for drop in new_files(self.department, self.drop_dir, self.is_ready, state, STREAM):
            yield from self._read_file(drop)
            yield drop.taken(STREAM)

    @staticmethod
    def is_ready(path: Path) -> bool:
        """A drop file whose `.ok` marker is there; a file without one is still being written."""
        return bool(FILE_NAME.match(path.name)) and path.with_name(path.name + ".ok").exists()

    def _read_file(self, drop: DropFile) -> Iterator[Delivery]:
        with drop.path.open("rb") as handle:
            header, problem = _header(handle.readline())
            if problem:  # no row can be aligned to its columns: the whole file is kept aside, the run goes on
                handle.seek(0)
                yield Unreadable(STREAM, f"{drop.path.name}:1", f"{problem}; ask the department to re-send the file", handle.read())
                return
            for line_number, line in enumerate(handle, start=2):
                row_index = line_number - 1
                if row_index <= drop.resume_after or not line.strip():
                    continue
                yield self._parse_line(drop.path.name, line_number, line, header)
                if row_index % CHECKPOINT_ROWS == 0:
                    yield drop.position(STREAM, row_index)

    def _parse_line(self, file_name: str, line_number: int, line: bytes, header: list[str]) -> Delivery:
        location = f"{file_name}:{line_number}"
        complete = line.endswith(b"\n")
        try:
            text = line.decode(ENCODING).rstrip("\r\n")
        except UnicodeDecodeError as error:
            reason = (
                CUT_SHORT
                if not complete
                else (f"bytes at offset {error.start} of this row are not valid GB18030; ask the department to correct the row")
            )
            return Unreadable(STREAM, location, reason, line, source_key=_key_of(line))
        try:
            fields = next(csv.reader([text]), [])
        except csv.Error as error:  # a stray carriage return or NUL inside a field
            return Unreadable(
                STREAM,
                location,
                f"the row is not a CSV line ({error}); ask the department to correct the row",
                line,
                source_key=_key_of(line),
            )
        if len(fields) != len(header):
            reason = (
                CUT_SHORT
                if not complete
                else (f"{len(fields)} columns where the header has {len(header)}; the row cannot be aligned to its columns")
            )
            return Unreadable(STREAM, location, reason, line, source_key=_key_of(line))
        payload = dict(zip(header, fields, strict=True))
        if not complete and parse_date(payload["变更日期"]) is None:
            # Right column count but no line end and a broken last field: the cut fell inside the last field.
            return Unreadable(STREAM, location, CUT_SHORT, line, source_key=_key_of(line))
        key = payload[KEY].strip()
        if not key:
            return Unreadable(STREAM, location, "个人编号 (person number) is empty: the row has no key", line)
        return Row(STREAM, "person", key, payload, location)

    def to_raw_person(self, payload: dict[str, Any]) -> RawPerson:
        return RawPerson(
            name=payload["姓名"],
            id_number=payload["公民身份号码"],
            sex=payload["性别"],
            birth_date=payload["出生日期"],
            hukou_place=payload["户籍所在地"],
            current_district=payload["参保地"],
            employer=payload["单位名称"],
            insurance_type=payload["险种"],
            insurance_status=payload["参保状态"],
            phone=payload["手机号码"] or None,
            source_updated_at=payload["变更日期"],
        )


def _header(line: bytes) -> tuple[list[str], str | None]:
    """The column names, or why the first line is no header of this feed."""
    try:
        names = next(csv.reader([line.decode(ENCODING).lstrip("\ufeff").rstrip("\r\n")]))
    except (UnicodeDecodeError, StopIteration):
        return [], "the header line is not GB18030 CSV"
    missing = [name for name in HEADER if name not in names]
    return names, f"the header lacks {', '.join(missing)} (FEEDS.md §2)" if missing else None


def _key_of(line: bytes) -> str | None:
    """The person number at the start of a row that cannot be read as a whole: it is plain ASCII before the first
    comma, so it usually survives a bad byte later in the row, and tells a steward which person the row was."""
    match = _KEY.match(line)
    return match.group(1).decode("ascii") if match else None
