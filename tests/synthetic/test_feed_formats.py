"""The generated feeds are in exactly the departments' formats (FEEDS.md and the shared samples)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import fastavro
import pytest

from synthetic.health import PERSON_FIELDS
from synthetic.human_resources import HEADER
from synthetic.public_security import COLUMNS, DDL
from synthetic.statistics import SCHEMA

SERVICE_FIELDS = ["event_id", "person_id", "service_type", "service_date", "district_code", "detail", "updated_at"]
SERVICE_TYPES = {
    "HEALTH_RECORD",
    "HEALTH_EDUCATION",
    "VACCINATION",
    "INFECTIOUS_DISEASE_REPORT",
    "MATERNAL_CARE",
    "CHILD_CARE",
    "FAMILY_PLANNING",
}
HR_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}/\d{1,2}/\d{1,2})$")


def _read_avro(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Writer schema, records and codec of an Avro file."""
    with open(path, "rb") as handle:
        reader = fastavro.reader(handle)
        records: list[dict[str, Any]] = [record for record in reader if isinstance(record, dict)]
        schema: dict[str, Any] = reader.writer_schema  # type: ignore[assignment]
        return schema, records, reader.codec


def _quarantined(out: Path) -> set[str]:
    lines = (out / "delivered.csv").read_text(encoding="utf-8").splitlines()[1:]
    return {line.split(",")[3] for line in lines if line.endswith(",quarantine")}


def test_public_security_table_has_the_sample_ddl(feeds: tuple[Path, dict[str, Any]], samples: Path) -> None:
    out, _ = feeds
    sample_ddl = (samples / "public_security_ga_jzdj.sql").read_text(encoding="utf-8").split(";\n")[0]
    assert sample_ddl == DDL
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        (ddl,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'ga_jzdj'").fetchone()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(ga_jzdj)")]
        rows = connection.execute("SELECT CSRQ, JZKSRQ, GXSJ, ZXBS, XB FROM ga_jzdj").fetchall()
    assert ddl == sample_ddl and tuple(columns) == COLUMNS
    for birth, start, updated, cancelled, sex in rows:
        assert birth is None or re.fullmatch(r"\d{8}", birth)
        assert re.fullmatch(r"\d{8}", start) and cancelled in ("0", "1") and sex in ("1", "2")
        assert updated is None or dt.datetime.strptime(updated, "%Y-%m-%d %H:%M:%S") < dt.datetime(2026, 11, 1)


def test_public_security_has_ties_and_moves(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        ties = connection.execute("SELECT count(*) FROM ga_jzdj GROUP BY GXSJ HAVING count(*) > 1").fetchall()
        cancelled = connection.execute("SELECT count(*) FROM ga_jzdj WHERE ZXBS = '1'").fetchone()[0]
    assert ties and cancelled > 0


def test_human_resources_files_are_gb18030_crlf_with_the_sample_header(feeds: tuple[Path, dict[str, Any]], samples: Path) -> None:
    out, _ = feeds
    sample_header = next((samples / "human_resources").glob("*.csv")).read_bytes().split(b"\r\n")[0]
    assert HEADER.encode("gb18030") == sample_header
    bad = _quarantined(out)
    for path in sorted((out / "human_resources").glob("*.csv")):
        data = path.read_bytes()
        lines = data.split(b"\r\n")
        assert lines[0] == sample_header
        assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
        for number, line in enumerate(lines[1:], start=2):
            if not line or f"{path.name}:{number}" in bad:
                continue
            fields = line.decode("gb18030").split(",")
            assert len(fields) == 12 and fields[0].startswith("RS")
            assert fields[3] in ("男", "女") and HR_DATE.match(fields[4]) and re.fullmatch(r"\d{6}", fields[6])
            assert (
                fields[9] in ("参保缴费", "暂停缴费", "终止") and fields[11] == f"{path.name[8:12]}-{path.name[12:14]}-{path.name[14:16]}"
            )
            assert fields[5].endswith(("县", "区", "市", "旗")) and fields[7].endswith("有限公司")


def test_statistics_waves_are_deflate_avro_with_the_bureau_schema(feeds: tuple[Path, dict[str, Any]], samples: Path) -> None:
    out, _ = feeds
    sample_schema, sample_records, _ = _read_avro(samples / "statistics" / "tj_ldrk_2026Q3.avro")
    sample_keys = set(sample_records[0])
    assert fastavro.parse_schema(SCHEMA) == fastavro.parse_schema(sample_schema)
    schema, records, codec = _read_avro(out / "statistics" / "tj_ldrk_2026Q2.avro")
    assert schema == sample_schema and codec == "deflate"
    assert records and set(records[0]) == sample_keys
    evolved, records, _ = _read_avro(out / "statistics" / "tj_ldrk_2026Q3.avro")
    added = [f for f in evolved["fields"] if f["name"] not in sample_keys]
    assert [f["name"] for f in added] == ["education"] and added[0]["default"] is None
    for record in records:
        masked = record["id_number_masked"]
        assert masked is None or re.fullmatch(r"\d{6}\*{8}\d{3}[\dXx]", masked)
        assert re.fullmatch(r"\d{4}-\d{2}", record["birth_year_month"]) and record["survey_wave"] == "2026Q3"
        assert record["phone_tail"] is None or re.fullmatch(r"\d{4}", record["phone_tail"])


def test_statistics_files_have_several_blocks(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    with open(out / "statistics" / "tj_ldrk_2026Q2.avro", "rb") as handle:
        assert len(list(fastavro.block_reader(handle))) >= 3


def test_the_cut_wave_breaks_off_in_its_last_block(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    readable = 0
    with open(out / "statistics" / "tj_ldrk_2026Q1.avro", "rb") as handle, pytest.raises((EOFError, ValueError)):
        for _ in fastavro.reader(handle):
            readable += 1
    delivered = (out / "delivered.csv").read_text(encoding="utf-8").splitlines()
    wave = [line for line in delivered if "tj_ldrk_2026Q1.avro" in line]
    assert readable == sum(line.endswith(",record") for line in wave) >= 1
    assert sum(line.endswith(",quarantine") for line in wave) >= 1


def test_health_items_have_the_sample_fields_and_order(feeds: tuple[Path, dict[str, Any]], samples: Path) -> None:
    out, _ = feeds
    for stream, fields in (("persons", list(PERSON_FIELDS)), ("services", SERVICE_FIELDS)):
        sample_item = json.loads((samples / "health" / f"{stream}.jsonl").read_text(encoding="utf-8").splitlines()[0])
        assert list(sample_item) == fields
        items = [json.loads(line) for line in (out / "health" / f"{stream}.jsonl").read_text(encoding="utf-8").splitlines()]
        key = fields[0]
        good = [item for item in items if item.get(key) and item.get("service_type", "HEALTH_RECORD") in SERVICE_TYPES]
        assert len(items) - len(good) >= 1  # the corrupt ones
        assert all(list(item) == fields for item in good)
        assert all(item["updated_at"].endswith("+08:00") for item in items)
        order = [(item["updated_at"], item.get(key) or "") for item in items]
        assert order == sorted(order)


def test_health_services_follow_the_policy(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    lines = (out / "health" / "services.jsonl").read_text(encoding="utf-8").splitlines()
    services = [json.loads(line) for line in lines]
    persons = {}
    for line in (out / "health" / "persons.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item.get("person_id"):
            persons[item["person_id"]] = item  # the last version wins
    records = {s["person_id"]: s for s in services if s["service_type"] == "HEALTH_RECORD"}
    for person_id, person in persons.items():
        if person["health_record_no"]:
            event = records[person_id]
            assert event["detail"]["record_no"] == person["health_record_no"]
            assert event["service_date"] == person["health_record_date"]
    for service in services:
        if service["service_type"] == "VACCINATION":
            assert set(service["detail"]) == {"vaccine", "dose"}
        if service["service_type"] == "INFECTIOUS_DISEASE_REPORT":
            detail = service["detail"]
            assert detail["diagnosis_date"] <= detail["report_date"] == service["updated_at"][:10]
