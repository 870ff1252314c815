"""All four departments' shared samples, ingested together: nothing lost, nothing applied twice.

The delivered keys are counted here independently of the connectors (a regex over the SQL dump, the csv module
over the decoded files, fastavro, json), so the check does not trust the code it checks.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pytest
from sqlalchemy import Engine

from mmi.config import settings_from_dict
from mmi.ingest import ingest
from synthetic import load_sample_sql
from synthetic.health_api import HEALTH_TOKEN, start_health_api
from tests.conftest import SAMPLES
from tests.helpers import current_records, current_services, quarantined, snapshot


def delivered_keys() -> dict[str, list[str]]:
    sql = (SAMPLES / "public_security_ga_jzdj.sql").read_text(encoding="utf-8")
    hr = []
    for path in sorted((SAMPLES / "human_resources").glob("rs_cbdj_*.csv")):
        if path.with_name(path.name + ".ok").exists():
            hr += [row["个人编号"] for row in csv.DictReader(io.StringIO(path.read_bytes().decode("gb18030")))]
    with (SAMPLES / "statistics" / "tj_ldrk_2026Q3.avro").open("rb") as handle:
        statistics = [record["respondent_id"] for record in fastavro.reader(handle)]
    health = [json.loads(line)["person_id"] for line in (SAMPLES / "health" / "persons.jsonl").read_text(encoding="utf-8").splitlines()]
    health += [json.loads(line)["event_id"] for line in (SAMPLES / "health" / "services.jsonl").read_text(encoding="utf-8").splitlines()]
    return {
        "public_security": re.findall(r"^INSERT INTO ga_jzdj VALUES \('([^']+)'", sql, flags=re.MULTILINE),
        "human_resources": hr,
        "statistics": statistics,
        "health": health,
    }


@pytest.fixture
def health_api() -> Iterator[str]:
    server, base_url = start_health_api(SAMPLES / "health", HEALTH_TOKEN, port=0)
    yield base_url
    server.shutdown()


@pytest.fixture
def settings(source_url: str, store_url: str, health_api: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    load_sample_sql(SAMPLES / "public_security_ga_jzdj.sql", source_url)
    # A config in tmp_path: relative paths (the audit log's signing key, made on first ingest) resolve there, not in
    # the working directory (this fixture once left keys/audit-log.pem in the repository's root).
    return settings_from_dict(
        {
            "store": {"url": store_url},
            "sources": {
                "public_security": {"url": source_url, "table": "ga_jzdj"},
                "human_resources": {"drop_dir": str(SAMPLES / "human_resources")},
                "statistics": {"drop_dir": str(SAMPLES / "statistics")},
                "health": {"base_url": health_api, "token": HEALTH_TOKEN, "page_size": 10},
            },
        },
        tmp_path / "mmi.toml",
    )


def test_every_delivered_key_is_ingested_or_quarantined(settings, store: Engine) -> None:  # type: ignore[no-untyped-def]
    reports = {report.department: report for report in ingest(settings, store)}
    for department, keys in delivered_keys().items():
        report = reports[department]
        assert report.error is None
        assert report.delivered == len(keys), department
        assert report.delivered == report.new_versions + report.unchanged + report.quarantined + report.already_quarantined
        stored = set(current_records(store, department)) | set(current_services(store, department))
        kept_aside = {q["source_key"] for q in quarantined(store, department)}
        assert set(keys) == stored | kept_aside, department
    truth = list(csv.DictReader((SAMPLES / "truth.csv").open(encoding="utf-8")))
    for row in truth:
        assert row["source_key"] in current_records(store, row["department"]), row


def test_a_second_ingest_with_nothing_new_changes_no_row(settings, store: Engine) -> None:  # type: ignore[no-untyped-def]
    ingest(settings, store)
    before = snapshot(store)
    reports = ingest(settings, store)
    assert all(report.new_versions == 0 and report.quarantined == 0 for report in reports)
    assert snapshot(store) == before


def test_repeated_keys_become_versions_in_delivery_order(settings, store: Engine) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import versions

    ingest(settings, store)
    history = versions(store, "human_resources", "RS000000035")  # lower-case x on 10-26, corrected on 10-28
    assert [v["location"] for v in history] == ["rs_cbdj_20261026.csv:3", "rs_cbdj_20261028.csv:2"]
    assert [v["is_current"] for v in history] == [False, True]
    assert "id_lowercase_x" in history[0]["quality_flags"] and "id_lowercase_x" not in history[1]["quality_flags"]
    assert Path(history[1]["location"].split(":")[0]).suffix == ".csv"


def test_a_row_that_does_not_fit_the_mapping_is_quarantined_not_fatal(store: Engine, tmp_path: Path) -> None:
    from connectors.statistics import StatisticsConnector
    from mmi.ingest import ingest_department

    class MappingBreaksOnOneRow(StatisticsConnector):
        def to_raw_person(self, payload):  # type: ignore[no-untyped-def]
            if payload["respondent_id"] == "2026Q3-0000040":
                raise KeyError("hukou_province")
            return super().to_raw_person(payload)

    import shutil

    shutil.copy(SAMPLES / "statistics" / "tj_ldrk_2026Q3.avro", tmp_path)
    report = ingest_department(store, MappingBreaksOnOneRow(tmp_path))
    assert (report.new_versions, report.quarantined, report.error) == (2, 1, None)
    [entry] = quarantined(store, "statistics")
    assert entry["source_key"] == "2026Q3-0000040" and "does not fit statistics's columns" in entry["reason"]


def test_an_unforeseen_failure_in_one_department_spares_the_others(settings, store: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connectors.human_resources import HumanResourcesConnector

    def broken(self, state):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(HumanResourcesConnector, "deliveries", broken)
    reports = {report.department: report for report in ingest(settings, store)}
    assert "unexpected failure (RuntimeError: a bug)" in (reports["human_resources"].error or "")
    assert all(reports[name].error is None and reports[name].new_versions > 0 for name in ("public_security", "statistics", "health"))
