"""The statistics drop folder, with real Avro object container files."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import fastavro
from sqlalchemy import Engine

from connectors.statistics import StatisticsConnector
from mmi.ingest import ingest_department
from tests.conftest import SAMPLES
from tests.helpers import current_records, quarantined, snapshot

SAMPLE = SAMPLES / "statistics" / "tj_ldrk_2026Q3.avro"


def bureau_schema(extra_field: bool = False) -> dict:
    with SAMPLE.open("rb") as handle:
        schema = fastavro.reader(handle).writer_schema
    if extra_field:  # the bureau's next schema version adds a field with a default
        schema = json.loads(json.dumps(schema))
        schema["fields"].append({"name": "education", "type": ["null", "string"], "default": None})
    return schema


def respondent(number: int, **extra: object) -> dict:
    return {
        "respondent_id": f"2026Q2-{number:07d}",
        "name": "冯婷",
        "id_number_masked": "220622********0124",
        "gender": "FEMALE",
        "birth_year_month": "1989-10",
        "hukou_province": "吉林省",
        "current_district_code": "120113",
        "arrival_year": 2026,
        "phone_tail": "7045",
        "household_size": 5,
        "survey_wave": "2026Q2",
        "survey_date": dt.date(2026, 5, 13),
        **extra,
    }


def write_wave(path: Path, records: list[dict], *, extra_field: bool = False, block_records: int = 10) -> bytes:
    buffer = io.BytesIO()
    schema = fastavro.parse_schema(bureau_schema(extra_field))
    fastavro.writer(buffer, schema, records, codec="deflate", sync_interval=1, sync_marker=b"0123456789abcdef")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_the_shared_sample_reads_with_its_own_schema(store: Engine, tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path)
    report = ingest_department(store, StatisticsConnector(tmp_path))
    assert (report.delivered, report.new_versions, report.quarantined) == (3, 3, 0)
    record = current_records(store, "statistics")["2026Q3-0000018"]
    assert (record["masked_id_region"], record["masked_id_tail"], record["sex"]) == ("220113", "0033", "1")
    assert (record["birth_year_month"], record["hukou_region"], record["phone_tail"]) == ("1999-02", "220000", "3034")
    assert record["location"] == "tj_ldrk_2026Q3.avro#1"


def test_a_wave_with_an_evolved_writer_schema_reads_as_written(store: Engine, tmp_path: Path) -> None:
    write_wave(tmp_path / "tj_ldrk_2026Q2.avro", [respondent(1, education="高中")], extra_field=True)
    ingest_department(store, StatisticsConnector(tmp_path))
    record = current_records(store, "statistics")["2026Q2-0000001"]
    assert '"education":"高中"' in record["payload"]


def test_a_file_cut_short_keeps_complete_blocks_and_quarantines_the_rest(store: Engine, tmp_path: Path) -> None:
    whole = write_wave(tmp_path / "full.bin", [respondent(i) for i in range(1, 41)])
    (tmp_path / "full.bin").unlink()
    (tmp_path / "tj_ldrk_2026Q2.avro").write_bytes(whole[: int(len(whole) * 0.6)])
    report = ingest_department(store, StatisticsConnector(tmp_path))
    kept = current_records(store, "statistics")
    assert 0 < len(kept) < 40 and report.new_versions == len(kept)
    assert sorted(kept) == [f"2026Q2-{i:07d}" for i in range(1, len(kept) + 1)]  # a prefix: nothing skipped
    [entry] = quarantined(store, "statistics")
    assert entry["location"].startswith("tj_ldrk_2026Q2.avro@") and "cut short or corrupted" in entry["reason"]
    offset = int(entry["location"].split("@")[1])
    assert entry["payload"] == whole[offset : int(len(whole) * 0.6)]  # every byte not read is kept


def test_a_file_that_is_not_avro_is_quarantined_whole(store: Engine, tmp_path: Path) -> None:
    (tmp_path / "tj_ldrk_2026Q1.avro").write_bytes(b"PK\x03\x04 this is a zip file")
    report = ingest_department(store, StatisticsConnector(tmp_path))
    assert (report.delivered, report.quarantined) == (1, 1)
    assert "from its header" in quarantined(store, "statistics")[0]["reason"]


def test_each_wave_is_read_once(store: Engine, tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path)
    ingest_department(store, StatisticsConnector(tmp_path))
    before = snapshot(store)
    assert ingest_department(store, StatisticsConnector(tmp_path)).delivered == 0
    assert snapshot(store) == before
