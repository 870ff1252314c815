"""The public security table, pulled incrementally from a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, create_engine, text

from connectors.public_security import PublicSecurityConnector, PublicSecuritySettings
from mmi.ingest import ingest_department
from schemas.dates import CHINA_TZ
from schemas.errors import SourceError
from tests.conftest import SAMPLES
from tests.helpers import current_records, quarantined, snapshot, versions

DDL = (SAMPLES / "public_security_ga_jzdj.sql").read_text(encoding="utf-8").split(";\n")[0]
COLUMNS = "JZDJBH, XM, XB, MZ, CSRQ, GMSFHM, HJDZ_XZQH, HJDZ, XZZ_XZQH, XZZ, LXDH, JZKSRQ, JZZH, ZXBS, GXSJ"


def load_sample(url: str) -> Engine:
    engine = create_engine(url)
    statements = [s for s in (SAMPLES / "public_security_ga_jzdj.sql").read_text(encoding="utf-8").split(";\n") if s.strip()]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return engine


def insert(source: Engine, key: str, gxsj: str | None, name: str = "张伟", id_number: str | None = "11010519491231002X") -> None:
    with source.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO ga_jzdj ({COLUMNS}) VALUES (:k, :n, '2', '01', '19491231', :i, '110105', '某村', '410108', '某路1号', "
                "'13800000000', '20200101', NULL, '0', :g)"
            ),
            {"k": key, "n": name, "i": id_number, "g": gxsj},
        )


def update(source: Engine, key: str, phone: str, gxsj: str) -> None:
    with source.begin() as connection:
        connection.execute(text("UPDATE ga_jzdj SET LXDH = :p, GXSJ = :g WHERE JZDJBH = :k"), {"p": phone, "g": gxsj, "k": key})


def connector(url: str, lookback: int = 0) -> PublicSecurityConnector:
    return PublicSecurityConnector(PublicSecuritySettings(url=url, lookback_seconds=lookback))


def test_the_sample_table_is_pulled_whole_then_nothing(store: Engine, source_url: str) -> None:
    load_sample(source_url)
    report = ingest_department(store, connector(source_url))
    assert (report.delivered, report.new_versions, report.quarantined) == (57, 57, 0)
    record = current_records(store, "public_security")["JZ33042400000003"]
    assert record["id_number"] == "131026198208033400" and "id_upgraded_from_15" in record["quality_flags"]
    # GXSJ is Beijing time; stored as UTC and read back as the same instant, whichever way the rows were written.
    assert record["source_updated_at"] == dt.datetime(2022, 2, 15, 15, 29, 24, tzinfo=CHINA_TZ)
    assert record["birth_date"] == dt.date(1982, 8, 3) and record["registration_cancelled"] is False
    assert record["location"] == "ga_jzdj GXSJ=2022-02-15 15:29:24 JZDJBH=JZ33042400000003"
    before = snapshot(store)
    again = ingest_department(store, connector(source_url))
    assert again.new_versions == 0 and again.batch_id is None
    assert snapshot(store) == before


def test_rows_sharing_the_cursor_time_are_not_skipped(store: Engine, source_url: str) -> None:
    source = load_sample(source_url)
    insert(source, "JZ-TIE-1", "2026-06-01 12:00:00")
    ingest_department(store, connector(source_url))
    insert(source, "JZ-TIE-2", "2026-06-01 12:00:00")  # committed later, same GXSJ as the cursor
    report = ingest_department(store, connector(source_url))
    assert report.new_versions == 1
    assert "JZ-TIE-2" in current_records(store, "public_security")


def test_a_late_update_becomes_a_new_version(store: Engine, source_url: str) -> None:
    source = load_sample(source_url)
    ingest_department(store, connector(source_url))
    update(source, "JZ41010800000056", "13911112222", "2026-11-01 09:00:00")
    assert ingest_department(store, connector(source_url)).new_versions == 1
    history = versions(store, "public_security", "JZ41010800000056")
    assert [(v["version"], v["is_current"], v["phone"]) for v in history] == [(1, False, "15813762880"), (2, True, "13911112222")]


def test_a_row_committed_late_with_an_older_time_is_caught_by_the_look_back(store: Engine, source_url: str) -> None:
    source = load_sample(source_url)
    ingest_department(store, connector(source_url, lookback=3600))
    insert(source, "JZ-LATE", "2026-05-17 12:30:00")  # 18 minutes before the newest GXSJ already read
    assert ingest_department(store, connector(source_url, lookback=3600)).new_versions == 1


def test_rows_without_gxsj_or_anything_to_link_are_quarantined_once(store: Engine, source_url: str) -> None:
    source = load_sample(source_url)
    insert(source, "JZ-NO-TIME", None)
    insert(source, "JZ-EMPTY", "2026-06-02 08:00:00", name=None, id_number=None)
    with source.begin() as connection:
        connection.execute(text("UPDATE ga_jzdj SET CSRQ = NULL WHERE JZDJBH = 'JZ-EMPTY'"))
    report = ingest_department(store, connector(source_url))
    assert (report.new_versions, report.quarantined) == (57, 2)
    reasons = {q["source_key"]: q["reason"] for q in quarantined(store, "public_security")}
    assert "GXSJ" in reasons["JZ-NO-TIME"] and "nothing to link" in reasons["JZ-EMPTY"]
    before = snapshot(store)
    again = ingest_department(store, connector(source_url))
    # Both are read again (the NULL-GXSJ row always, the other as the newest GXSJ) and neither is kept twice.
    assert (again.already_quarantined, again.quarantined) == (2, 0)
    assert snapshot(store) == before


def test_a_missing_table_says_what_to_fix(store: Engine, source_url: str) -> None:
    create_engine(source_url).dispose()
    report = ingest_department(store, connector(source_url))
    assert report.error and "not found" in report.error and "sources.public_security" in report.error


def test_a_table_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(SourceError, match="not a plain SQL identifier"):
        PublicSecurityConnector(PublicSecuritySettings(url="sqlite://", table="ga_jzdj; DROP TABLE x"))
