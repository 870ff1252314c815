"""Generated feeds, every department, checked key by key against the generator's manifest (delivered.csv).

The manifest says, for every physical row the generator wrote, whether it is readable ('record'), corrupt
('quarantine') or not yet released ('pending': its file has no .ok marker). Ingest must store every record key,
quarantine every corrupt row, store nothing pending, and after a delta keep old versions beside new ones.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from devtools.feeds import served_feeds
from mmi.config import Settings
from mmi.ingest import ingest
from synthetic import generate_delta, generate_feeds, load_public_security
from tests.helpers import current_records, current_services, quarantined, snapshot

PEOPLE = 400


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(out, people=PEOPLE, seed=5, noise=2.0)
    return out


@pytest.fixture
def settings(feeds: Path, tmp_path: Path, store_url: str, source_url: str) -> Iterator[Settings]:
    """The generated feeds, copied so each test can change them, served and configured like a deployment."""
    import dataclasses
    import shutil

    copy = tmp_path / "feeds"
    shutil.copytree(feeds, copy)
    load_public_security(copy / "public_security" / "ga_jzdj.sqlite", source_url)
    with served_feeds(copy) as served:
        sources = served.settings().sources
        yield served.settings(
            store_url=store_url,
            sources={
                **sources,
                "public_security": dataclasses.replace(sources["public_security"], url=source_url),
                "health": dataclasses.replace(sources["health"], page_size=100),
            },
        )


def manifest(folder: Path) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (folder / "delivered.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["department"]].append(row)
    return rows


def assert_accounted_for(store: Engine, folder: Path) -> None:
    for department, rows in manifest(folder).items():
        stored = set(current_records(store, department)) | set(current_services(store, department))
        aside = quarantined(store, department)
        record_keys = {row["source_key"] for row in rows if row["expected"] == "record"}
        assert record_keys <= stored, (department, sorted(record_keys - stored)[:5])
        assert stored <= record_keys, (department, sorted(stored - record_keys)[:5])  # nothing pending or corrupt stored
        corrupt = [row for row in rows if row["expected"] == "quarantine"]
        kept_keys = {q["source_key"] for q in aside if q["source_key"]}
        # A cut-off Avro tail is kept whole (its bytes, from the offset reading stopped), not record by record.
        cut_files = {q["location"].split("@")[0] for q in aside if "@" in q["location"]}
        for row in corrupt:
            if row["source_key"] and row["location"].split(":")[0] not in cut_files:
                assert row["source_key"] in kept_keys, (department, row)
        for stream in {row["stream"] for row in corrupt}:
            keyless = sum(1 for row in corrupt if row["stream"] == stream and not row["source_key"])
            kept_keyless = sum(1 for q in aside if q["stream"] == stream and not q["source_key"] and "@" not in q["location"])
            assert kept_keyless == keyless, (department, stream, kept_keyless, keyless)


def test_every_generated_row_is_stored_or_quarantined(settings: Settings, store: Engine) -> None:
    reports = ingest(settings, store)
    assert all(report.error is None for report in reports), reports
    folder = settings.config_path.parent  # type: ignore[union-attr]
    assert_accounted_for(store, folder)
    counts = {department: len(rows) for department, rows in manifest(folder).items()}
    for report in reports:
        assert 0 < report.delivered <= counts[report.department]
        assert report.delivered == report.new_versions + report.unchanged + report.quarantined + report.already_quarantined


def test_a_second_run_changes_nothing_and_a_delta_adds_versions(settings: Settings, store: Engine) -> None:
    ingest(settings, store)
    before = snapshot(store)
    ingest(settings, store)
    assert snapshot(store) == before
    folder = settings.config_path.parent  # type: ignore[union-attr]
    generate_delta(folder, seed=9, fraction=0.05)
    load_public_security(folder / "public_security" / "ga_jzdj.sqlite", settings.sources["public_security"].url)
    reports = {report.department: report for report in ingest(settings, store)}
    assert all(report.error is None and report.new_versions > 0 for report in reports.values()), reports
    assert_accounted_for(store, folder)
    updated = [key for key, row in current_records(store, "public_security").items() if row["version"] > 1]
    assert updated, "the delta updates some public security registrations"


def test_a_worker_process_stores_exactly_what_inline_standardising_does(feeds: Path, tmp_path: Path) -> None:
    from connectors import connectors_for
    from mmi.export import export_quarantine, export_records
    from mmi.ingest import ingest_department
    from mmi.store.database import open_store

    with served_feeds(feeds) as served:
        settings = served.settings()
        exports = {}
        for mode, parallel_after in (("inline", None), ("worker", 0)):
            engine = open_store(f"sqlite:///{tmp_path / mode}.db")
            for connector in connectors_for(settings.sources):
                ingest_department(engine, connector, parallel_after=parallel_after)
            export_records(engine, tmp_path / f"{mode}-records.csv")
            export_quarantine(engine, tmp_path / f"{mode}-quarantine.csv")
            exports[mode] = [(tmp_path / f"{mode}-{what}.csv").read_text(encoding="utf-8") for what in ("records", "quarantine")]
    records, quarantine = exports["inline"]
    assert records.count("\n") > PEOPLE  # a real comparison, not two empty files
    assert exports["worker"][0] == records
    strip_time = lambda text: [line.rsplit(",", 2)[0] for line in text.splitlines()]  # noqa: E731 - quarantined_at differs
    assert strip_time(exports["worker"][1]) == strip_time(quarantine)


def test_departments_side_by_side_store_what_one_at_a_time_does(settings: Settings, store: Engine, tmp_path: Path) -> None:
    import dataclasses

    from mmi.export import export_records
    from mmi.store.database import open_store

    reports = ingest(settings, store, parallel=True)  # one process per core, all writing to the same store
    assert all(report.error is None for report in reports) and [r.department for r in reports] == settings.configured_sources
    sequential = open_store(f"sqlite:///{tmp_path / 'sequential.db'}")
    ingest(dataclasses.replace(settings, store_url=str(sequential.url)), sequential)
    export_records(store, tmp_path / "parallel.csv")
    export_records(sequential, tmp_path / "sequential.csv")
    # Batch ids differ with the order departments finished in; everything else is the same.
    strip_batch = lambda path: sorted(line.rsplit(",", 2)[0] for line in path.read_text(encoding="utf-8").splitlines())  # noqa: E731
    assert strip_batch(tmp_path / "parallel.csv") == strip_batch(tmp_path / "sequential.csv")
    assert len(strip_batch(tmp_path / "parallel.csv")) > PEOPLE
