"""Feeds that never crash a run (hypothesis): whatever a department sends — random bytes in a GB18030 line, Avro
files cut short or corrupted, JSON pages that are not JSON, odd values in any column — every item it delivers
ends as a source record or a quarantine entry with a reason, and no exception escapes the department's ingest.

Each property runs through the real pipeline (`mmi.ingest.ingest_department`: connector, standardising, landing)
into one SQLite store per module; examples are kept few and small so the file runs in well under a minute."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import re
from pathlib import Path
from typing import Any

import fastavro
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, select, text

from connectors.health import HealthConnector, HealthSettings
from connectors.health.client import HealthClient
from connectors.human_resources import HumanResourcesConnector
from connectors.public_security import PublicSecurityConnector, PublicSecuritySettings
from connectors.public_security.connector import COLUMNS as PS_COLUMNS
from connectors.statistics import StatisticsConnector
from mmi.ingest import IngestReport, ingest_department
from mmi.store.database import open_store
from mmi.store.tables import quarantine, service_event, source_record
from synthetic.statistics import SCHEMA
from tests.conftest import SAMPLES

EXAMPLES = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HR_SAMPLE = (SAMPLES / "human_resources" / "rs_cbdj_20261022.csv").read_bytes()
HR_HEADER, *HR_LINES = HR_SAMPLE.splitlines(keepends=True)
_serial = itertools.count()

odd_string = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "NULL", "9" * 40, "19990230", "2026-13-45", "４１０１０５", "\u202e", "😀", "-1", "1e309"]),
)
odd_text = st.one_of(st.none(), odd_string)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return open_store(f"sqlite:///{tmp_path_factory.mktemp('never-crash') / 'mmi.db'}")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feeds")


def every_item_accounted_for(store: Engine, report: IngestReport) -> None:
    """Each delivered item is a stored version, an unchanged one, or a quarantine entry with a reason. (A run the
    feed failed part-way stores what came before its last checkpoint and keeps the cursor there: the rest is
    read again by the next run, so only what it stored is counted here.)"""
    if report.error is None:
        assert report.delivered == report.new_versions + report.unchanged + report.quarantined + report.already_quarantined
    if report.batch_id is None:
        return
    with store.connect() as connection:
        versions = sum(
            connection.execute(select(func.count()).where(table.c.batch_id == report.batch_id)).scalar_one()
            for table in (source_record, service_event)
        )
        reasons = connection.execute(select(quarantine.c.reason).where(quarantine.c.batch_id == report.batch_id)).scalars().all()
    assert versions == report.new_versions
    assert len(reasons) == report.quarantined and all(reason and reason.strip() for reason in reasons)


def lines_of(body: bytes) -> list[bytes]:
    """The lines as the connector reads a file (split on newline only), without blank ones."""
    return [line for line in re.findall(rb"[^\n]*\n|[^\n]+$", body) if line.strip()]


def _mutated_line(line: bytes, data: st.DataObject) -> bytes:
    kind = data.draw(st.sampled_from(["bytes", "insert", "cut", "fields"]))
    if kind == "bytes":
        return data.draw(st.binary(max_size=120)) + b"\n"
    if kind == "insert":
        at = data.draw(st.integers(0, len(line)))
        return line[:at] + data.draw(st.binary(min_size=1, max_size=8)) + line[at:]
    if kind == "cut":
        return line[: data.draw(st.integers(0, len(line)))]
    fields = line.rstrip(b"\r\n").split(b",")
    index = data.draw(st.integers(0, len(fields) - 1))
    fields[index] = (data.draw(odd_text) or "").encode("gb18030", errors="replace")
    extra = data.draw(st.lists(st.just(b"x"), max_size=2))
    return b",".join(fields + extra) + b"\r\n"


@EXAMPLES
@given(data=st.data())
def test_human_resources_lines_with_random_bytes(store: Engine, work: Path, data: st.DataObject) -> None:
    folder = work / f"hr{next(_serial)}"
    folder.mkdir()
    chosen = data.draw(st.lists(st.sampled_from(HR_LINES), min_size=1, max_size=6))
    lines = [_mutated_line(line, data) if data.draw(st.booleans()) else line for line in chosen]
    body = b"".join(line if line.endswith(b"\n") or line is lines[-1] else line + b"\n" for line in lines)
    header = HR_HEADER if data.draw(st.integers(0, 9)) else data.draw(st.binary(max_size=40)) + b"\n"
    content = header + body + f"\n{next(_serial)}\n".encode()  # a unique line: no two examples are the same file
    (folder / "rs_cbdj_20261101.csv").write_bytes(content)
    (folder / "rs_cbdj_20261101.csv.ok").write_bytes(b"")

    report = ingest_department(store, HumanResourcesConnector(folder), parallel_after=None)
    assert report.error is None
    every_item_accounted_for(store, report)
    if header == HR_HEADER:
        assert report.delivered == len(lines_of(body)) + 1
    else:
        assert report.delivered >= 1  # at least the file itself, quarantined whole when its header is not this feed's


def _statistics_record(data: st.DataObject, number: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for field in SCHEMA["fields"]:
        kinds = field["type"] if isinstance(field["type"], list) else [field["type"]]
        kind = data.draw(st.sampled_from(kinds))
        if kind == "null":
            record[field["name"]] = None
        elif isinstance(kind, dict) and kind.get("type") == "enum":
            record[field["name"]] = data.draw(st.sampled_from(kind["symbols"]))
        elif isinstance(kind, dict) and kind.get("logicalType") == "date":  # days since 1970 that a date can hold
            record[field["name"]] = data.draw(st.integers(-719_162, 2_932_896))
        elif kind in ("int", "long"):
            record[field["name"]] = data.draw(st.integers(-(2**31), 2**31 - 1))
        else:
            record[field["name"]] = data.draw(odd_string)
    if data.draw(st.booleans()):
        record["respondent_id"] = f"R{number:07d}"
    return record


@EXAMPLES
@given(data=st.data())
def test_statistics_avro_files_cut_and_corrupted(store: Engine, work: Path, data: st.DataObject) -> None:
    folder = work / f"tj{next(_serial)}"
    folder.mkdir()
    number = next(_serial)
    records = [_statistics_record(data, number * 10 + i) for i in range(data.draw(st.integers(1, 8)))]
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(SCHEMA), records, sync_interval=data.draw(st.sampled_from([16, 64, 16_000])))
    content = bytearray(buffer.getvalue())
    damage = data.draw(st.sampled_from(["none", "cut", "flip", "garbage"]))
    if damage == "cut":
        content = content[: data.draw(st.integers(0, len(content)))]
    elif damage == "flip":
        for _ in range(data.draw(st.integers(1, 5))):
            content[data.draw(st.integers(0, len(content) - 1))] ^= data.draw(st.integers(1, 255))
    elif damage == "garbage":
        content += data.draw(st.binary(min_size=1, max_size=64))
    (folder / f"tj_ldrk_2026Q{number}.avro").write_bytes(bytes(content))

    report = ingest_department(store, StatisticsConnector(folder), parallel_after=None)
    assert report.error is None
    every_item_accounted_for(store, report)
    if damage == "none":
        assert report.delivered == len(records)


PAGE = st.one_of(
    st.binary(max_size=60),  # not JSON at all
    st.sampled_from([b"", b"null", b"[]", b'{"items": 3}', b'{"next_page_token": 7}', b'{"items": [1, "x"']),
)
ITEM = st.one_of(
    st.fixed_dictionaries(
        {"health_record_no": odd_text, "updated_at": st.one_of(odd_text, st.just("2026-10-01T08:00:00+08:00"))},
        optional={name: odd_text for name in ("name", "id_card", "sex", "birth_date", "phone", "address_code", "guardian_id_card")},
    ),
    st.fixed_dictionaries(
        {"event_id": odd_text, "health_record_no": odd_text, "updated_at": st.just("2026-10-01T08:00:00+08:00")},
        optional={
            "service_type": odd_text,
            "service_date": odd_text,
            "detail": st.one_of(odd_text, st.dictionaries(st.text(max_size=5), odd_text, max_size=3)),
        },
    ),
    st.integers(),
    st.none(),
    st.just([]),
    st.just("x"),
)


@EXAMPLES
@given(pages=st.lists(st.one_of(PAGE, st.lists(ITEM, max_size=5)), min_size=1, max_size=4))
def test_health_pages_malformed_or_odd(store: Engine, pages: list[Any]) -> None:
    """Pages in turn: a list is a well-formed page of those items, bytes are the body as sent. A body that is
    not a page is retried and then fails the department as transient: its items were never delivered."""
    bodies = [
        json.dumps({"items": page, "next_page_token": "next" if n < len(pages) - 1 else None}).encode() if isinstance(page, list) else page
        for n, page in enumerate(pages)
    ]
    served = iter(bodies)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/services"):
            return httpx.Response(200, json={"items": [], "next_page_token": None})
        return httpx.Response(200, content=next(served, b'{"items": [], "next_page_token": null}'))

    def client(options: HealthSettings) -> HealthClient:
        made = HealthClient(options, sleep=lambda _seconds: None)
        made.http = httpx.Client(base_url=options.base_url, transport=httpx.MockTransport(answer))
        return made

    options = HealthSettings(base_url="http://health.invalid", token="t", page_size=5, max_attempts=1, backoff_seconds=0)
    report = ingest_department(store, HealthConnector(options, client_factory=client), parallel_after=None)
    assert report.error is None or report.transient  # a body that is no page: retry later, never a crash
    every_item_accounted_for(store, report)
    readable = list(itertools.takewhile(lambda page: isinstance(page, list), pages))
    if report.error is None:
        assert report.delivered == sum(len(page) for page in pages)
    else:
        assert report.delivered <= sum(len(page) for page in readable)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ps') / 'ga_jzdj.sqlite'}"
    engine = create_engine(url)
    ddl = (SAMPLES / "public_security_ga_jzdj.sql").read_text(encoding="utf-8").split(";\n")[0]
    with engine.begin() as connection:
        connection.execute(text(ddl))
    return engine, url


INT64 = st.integers(-(2**63), 2**63 - 1)  # what a database column holds at most
GXSJ = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(str), odd_text, INT64)


@EXAMPLES
@given(
    rows=st.lists(
        st.fixed_dictionaries({name: (GXSJ if name == "GXSJ" else st.one_of(odd_text, INT64)) for name in PS_COLUMNS}),
        min_size=1,
        max_size=5,
    )
)
def test_public_security_rows_with_odd_values(store: Engine, source: tuple[Engine, str], rows: list[dict[str, Any]]) -> None:
    engine, url = source
    table_rows = []
    for row in rows:  # a fresh key each: the table's primary key; an empty one is kept (SQLite allows it once)
        number = next(_serial)
        table_rows.append(row | {"JZDJBH": f"K{number}" if row["JZDJBH"] else None})
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ga_jzdj"))
        for row in table_rows:
            connection.execute(
                text(f"INSERT INTO ga_jzdj ({', '.join(PS_COLUMNS)}) VALUES ({', '.join(':' + name for name in PS_COLUMNS)})"), row
            )
    # A new connector state each time (the department's cursor is forgotten), so every row is read again.
    with store.begin() as connection:
        connection.execute(text("DELETE FROM ingest_cursor WHERE department = 'public_security'"))

    report = ingest_department(store, PublicSecurityConnector(PublicSecuritySettings(url=url, table="ga_jzdj")), parallel_after=None)
    assert report.error is None
    every_item_accounted_for(store, report)
    assert report.delivered == len(table_rows)
