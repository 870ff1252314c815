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
from typing import Any

import fastavro

from connectors.base import Delivery, Row, SourceState, Unreadable
from connectors.drop_folder import DropFile, new_files
from schemas.raw import RawPerson

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
        for drop in new_files(self.department, self.drop_dir, lambda path: bool(FILE_NAME.match(path.name)), state, STREAM):
            yield from self._read_file(drop)
            yield drop.taken(STREAM)

    def _read_file(self, drop: DropFile) -> Iterator[Delivery]:
        index = 0
        good_until = 0  # byte offset where the last complete block ended
        with drop.path.open("rb") as handle:
            try:
                for block in fastavro.block_reader(handle):
                    records = list(block)  # a block is decoded whole, so a corrupt one fails before any row is yielded
                    for record in records:
                        assert isinstance(record, dict)  # the bureau's schema is a record schema
                        index += 1
                        if index > drop.resume_after:
                            yield self._delivery(drop.path.name, index, record)
                        if index % CHECKPOINT_RECORDS == 0:
                            yield drop.position(STREAM, index)
                    good_until = handle.tell()
            except Exception as error:  # noqa: BLE001 - fastavro raises many types for a truncated or corrupt file
                handle.seek(good_until)
                yield self._unreadable_rest(drop.path.name, good_until, index, error, handle.read())

    def _unreadable_rest(self, name: str, offset: int, records_read: int, error: Exception, rest: bytes) -> Unreadable:
        where = "its header" if offset == 0 else f"byte {offset}, after record {records_read}"
        return Unreadable(
            STREAM,
            f"{name}@{offset}",
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
            name=payload.get("name"),
            masked_id=payload.get("id_number_masked"),
            sex=_GENDER.get(str(payload.get("gender")), payload.get("gender")),
            birth_year_month=payload.get("birth_year_month"),
            hukou_place=payload.get("hukou_province"),
            current_district=payload.get("current_district_code"),
            arrival_year=payload.get("arrival_year"),
            phone_tail=payload.get("phone_tail"),
            household_size=payload.get("household_size"),
            survey_wave=payload.get("survey_wave"),
            source_updated_at=payload.get("survey_date"),
        )
