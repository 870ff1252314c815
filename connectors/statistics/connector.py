"""Read `tj_ldrk_<wave>.avro` files from the drop folder, each with the bureau's own writer schema.

The schema is read from each file's header, so a wave written with an evolved schema reads as it was written.
Files are read block by block: when a file is cut short or a block is corrupt, the records of the complete
blocks before it are kept and the rest of the file's bytes are quarantined with the offset where reading
stopped. Each file is taken once, by checksum; the cursor counts stored records so a crash resumes after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import fastavro

from connectors.base import Checkpoint, Delivery, Row, SourceState, TakenFile, Unreadable, file_sha256
from linkage.standardise.record import RawPerson
from mmi.errors import SourceError

STREAM = "tj_ldrk"
FILE_NAME = re.compile(r"^tj_ldrk_[A-Za-z0-9_-]+\.avro$")
KEY = "respondent_id"
CHECKPOINT_RECORDS = 2000
_GENDER = {"MALE": "1", "FEMALE": "2"}


class StatisticsConnector:
    department = "statistics"

    def __init__(self, drop_dir: Path) -> None:
        self.drop_dir = drop_dir

    def deliveries(self, state: SourceState) -> Iterator[Delivery]:
        if not self.drop_dir.is_dir():
            raise SourceError(self.department, f"drop folder {self.drop_dir} does not exist; fix sources.statistics.drop_dir")
        for path in sorted(p for p in self.drop_dir.iterdir() if FILE_NAME.match(p.name)):
            sha256, size = file_sha256(path)
            if state.file_taken(sha256):
                continue
            cursor = state.cursor(STREAM) or {}
            resume_after = cursor.get("records_done", 0) if cursor.get("sha256") == sha256 else 0
            with path.open("rb") as handle:
                yield from self._read_file(path.name, handle, sha256, resume_after)
            yield Checkpoint(STREAM, {"file": path.name, "sha256": sha256, "records_done": -1}, TakenFile(path.name, sha256, size))

    def _read_file(self, name: str, handle: BinaryIO, sha256: str, resume_after: int) -> Iterator[Delivery]:
        index = 0
        good_until = 0  # byte offset where the last complete block ended
        try:
            for block in fastavro.block_reader(handle):
                records = list(block)  # a block is decoded whole, so a corrupt one fails before any row is yielded
                for record in records:
                    assert isinstance(record, dict)  # the bureau's schema is a record schema
                    index += 1
                    if index > resume_after:
                        yield self._delivery(name, index, record)
                    if index % CHECKPOINT_RECORDS == 0:
                        yield Checkpoint(STREAM, {"file": name, "sha256": sha256, "records_done": index})
                good_until = handle.tell()
        except Exception as error:  # noqa: BLE001 - fastavro raises many types for a truncated or corrupt file
            handle.seek(good_until)
            rest = handle.read()
            where = "its header" if good_until == 0 else f"byte {good_until}, after record {index}"
            yield Unreadable(
                STREAM,
                f"{name}@{good_until}",
                f"the Avro file cannot be read from {where} ({type(error).__name__}: {error}); "
                "the file was cut short or corrupted: ask the bureau to re-send the wave",
                rest,
            )

    def _delivery(self, name: str, index: int, record: dict[str, Any]) -> Delivery:
        location = f"{name}#{index}"
        key = record.get(KEY)
        if not key:
            return Unreadable(STREAM, location, "respondent_id is empty: the record has no key", repr(record).encode("utf-8"))
        return Row(STREAM, "person", str(key), record, location)

    def to_raw_person(self, payload: dict[str, Any]) -> RawPerson:
        return RawPerson(
            name=payload.get("name"), masked_id=payload.get("id_number_masked"),
            sex=_GENDER.get(str(payload.get("gender")), payload.get("gender")),
            birth_year_month=payload.get("birth_year_month"), hukou_place=payload.get("hukou_province"),
            current_district=payload.get("current_district_code"), arrival_year=payload.get("arrival_year"),
            phone_tail=payload.get("phone_tail"), household_size=payload.get("household_size"),
            survey_wave=payload.get("survey_wave"), source_updated_at=payload.get("survey_date"),
        )
