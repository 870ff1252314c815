"""The human resources drop folder, with real GB18030 files and .ok markers."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine

from connectors.human_resources import HumanResourcesConnector
from connectors.human_resources.connector import HEADER
from mmi.ingest import ingest_department
from schemas.errors import TransientError
from tests.helpers import current_records, quarantined, snapshot, versions

GOOD = [
    "RS000000050,冯婷,220622198910300124,女,1989-10-30,吉林省白山市靖宇县,120113,郑州电子有限公司,失业,暂停缴费,15969687045,2026-10-22",
    "RS000000040,毛\u3000斌,360826198911045257,男,1989/11/4,江西省吉安市泰和县,220122,苏州建工有限公司,工伤,参保缴费,15567268035,2026-10-22",
]


def write_drop(folder: Path, day: str, lines: list[str] | bytes, *, marker: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rs_cbdj_{day}.csv"
    body = lines if isinstance(lines, bytes) else "".join(f"{line}\r\n" for line in lines).encode("gb18030")
    path.write_bytes((",".join(HEADER) + "\r\n").encode("gb18030") + body)
    if marker:
        path.with_name(path.name + ".ok").touch()
    return path


def test_rows_become_standardised_records_with_provenance(store: Engine, tmp_path: Path) -> None:
    write_drop(tmp_path, "20261022", GOOD)
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert (report.delivered, report.new_versions, report.quarantined) == (2, 2, 0)
    records = current_records(store, "human_resources")
    mao = records["RS000000040"]
    assert (mao["name"], mao["sex"], mao["hukou_region"], mao["current_district"]) == ("毛斌", "1", "360826", "220122")
    assert mao["location"] == "rs_cbdj_20261022.csv:3"
    assert mao["batch_id"] == report.batch_id and len(mao["payload_sha256"]) == 64
    assert '"姓名":"毛\u3000斌"' in mao["payload"]  # the raw row is kept as delivered


def test_a_file_without_its_marker_waits(store: Engine, tmp_path: Path) -> None:
    path = write_drop(tmp_path, "20261022", GOOD, marker=False)
    assert ingest_department(store, HumanResourcesConnector(tmp_path)).delivered == 0
    path.with_name(path.name + ".ok").touch()
    assert ingest_department(store, HumanResourcesConnector(tmp_path)).new_versions == 2


def test_each_file_is_taken_once_by_checksum(store: Engine, tmp_path: Path) -> None:
    path = write_drop(tmp_path, "20261022", GOOD)
    ingest_department(store, HumanResourcesConnector(tmp_path))
    before = snapshot(store)
    shutil.copy(path, tmp_path / "rs_cbdj_20261023.csv")  # the same bytes again, under the next day's name
    (tmp_path / "rs_cbdj_20261023.csv.ok").touch()
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert report.delivered == 0 and report.batch_id is None
    assert snapshot(store) == before


def test_files_with_the_same_bytes_in_one_run_are_taken_once(store: Engine, tmp_path: Path) -> None:
    """Two days with no rows deliver the same header-only bytes: the second is not taken again in the same run."""
    for day in ("20261022", "20261023"):
        write_drop(tmp_path, day, [])
    write_drop(tmp_path, "20261024", GOOD)
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert report.error is None and report.new_versions == 2


def test_a_changed_row_in_a_later_file_is_a_new_version_and_the_old_is_kept(store: Engine, tmp_path: Path) -> None:
    write_drop(tmp_path, "20261022", GOOD)
    write_drop(tmp_path, "20261030", [GOOD[0].replace("暂停缴费", "参保缴费").replace("2026-10-22", "2026-10-30")])
    ingest_department(store, HumanResourcesConnector(tmp_path))
    history = versions(store, "human_resources", "RS000000050")
    assert [(v["version"], v["is_current"], v["insurance_status"]) for v in history] == [(1, False, "暂停缴费"), (2, True, "参保缴费")]
    assert history[1]["location"] == "rs_cbdj_20261030.csv:2"


def test_bad_rows_are_quarantined_alone_with_reasons(store: Engine, tmp_path: Path) -> None:
    bad_bytes = GOOD[1].encode("gb18030").replace("毛".encode("gb18030"), b"\xff\xff") + b"\r\n"
    body = (
        (GOOD[0] + "\r\n").encode("gb18030")
        + "RS000000099,张伟,only,three\r\n".encode("gb18030")
        + bad_bytes
        + ",李娜,110105194912310021,女,1949-12-31,北京市东城区,110101,某公司,养老,参保缴费,13800000000,2026-10-22\r\n".encode("gb18030")
    )
    write_drop(tmp_path, "20261022", body)
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert (report.delivered, report.new_versions, report.quarantined) == (4, 1, 3)
    reasons = {q["location"]: q["reason"] for q in quarantined(store, "human_resources")}
    assert "4 columns where the header has 12" in reasons["rs_cbdj_20261022.csv:3"]
    assert "not valid GB18030" in reasons["rs_cbdj_20261022.csv:4"]
    assert "no key" in reasons["rs_cbdj_20261022.csv:5"]
    kept = {q["location"]: q["payload"] for q in quarantined(store, "human_resources")}
    assert kept["rs_cbdj_20261022.csv:4"] == bad_bytes  # the exact bytes, for whoever fixes the row


def test_a_file_cut_short_keeps_its_complete_rows(store: Engine, tmp_path: Path) -> None:
    whole = "".join(f"{line}\r\n" for line in GOOD).encode("gb18030")
    cut = whole[: len(whole) - 12]  # inside the last row's phone number
    write_drop(tmp_path, "20261022", cut)
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert (report.new_versions, report.quarantined) == (1, 1)
    [entry] = quarantined(store, "human_resources")
    assert entry["location"] == "rs_cbdj_20261022.csv:3" and "cut short" in entry["reason"]


def test_a_cut_inside_a_multibyte_character_is_quarantined_as_cut_short(store: Engine, tmp_path: Path) -> None:
    whole = "".join(f"{line}\r\n" for line in GOOD).encode("gb18030")
    cut = whole[: whole.index("苏州".encode("gb18030")) + 1]  # half of 苏
    write_drop(tmp_path, "20261022", cut)
    ingest_department(store, HumanResourcesConnector(tmp_path))
    [entry] = quarantined(store, "human_resources")
    assert "cut short" in entry["reason"]


def test_a_run_resumes_mid_file_without_applying_a_row_twice(store: Engine, tmp_path: Path, monkeypatch) -> None:
    from connectors.human_resources import connector as module

    monkeypatch.setattr(module, "CHECKPOINT_ROWS", 2)
    rows = [GOOD[0], GOOD[1], GOOD[0].replace("暂停缴费", "参保缴费"), GOOD[1].replace("工伤", "养老")]
    write_drop(tmp_path, "20261022", rows)
    deliveries = HumanResourcesConnector(tmp_path).deliveries

    class FailsAfterThreeRows(HumanResourcesConnector):
        def deliveries(self, state):  # type: ignore[no-untyped-def]
            for number, delivery in enumerate(deliveries(state)):
                if number == 4:  # rows 1-2, checkpoint, row 3: then the file share goes away
                    raise TransientError("drop folder unreachable")
                yield delivery

    report = ingest_department(store, FailsAfterThreeRows(tmp_path), flush_rows=1)
    assert report.transient and report.new_versions == 2  # row 3 came after the last checkpoint: read again next time
    assert len(current_records(store, "human_resources")) == 2
    ingest_department(store, HumanResourcesConnector(tmp_path))
    assert [v["version"] for v in versions(store, "human_resources", "RS000000050")] == [1, 2]
    assert [v["version"] for v in versions(store, "human_resources", "RS000000040")] == [1, 2]


def test_a_file_with_a_foreign_header_is_quarantined_whole_and_the_others_read(store: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "rs_cbdj_20261021.csv"
    bad.write_bytes("编号,名字\r\nRS1,张伟\r\n".encode("gb18030"))
    bad.with_name(bad.name + ".ok").touch()
    write_drop(tmp_path, "20261022", GOOD)
    report = ingest_department(store, HumanResourcesConnector(tmp_path))
    assert (report.error, report.new_versions, report.quarantined) == (None, 2, 1)
    [entry] = quarantined(store, "human_resources")
    assert entry["location"] == "rs_cbdj_20261021.csv:1" and "header lacks 个人编号" in entry["reason"]
    assert entry["payload"] == bad.read_bytes()


def test_a_missing_drop_folder_says_what_to_fix(store: Engine, tmp_path: Path) -> None:
    report = ingest_department(store, HumanResourcesConnector(tmp_path / "nowhere"))
    assert report.error and "does not exist; fix sources.human_resources.drop_dir" in report.error
