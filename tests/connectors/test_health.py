"""The health platform API, pulled over real HTTP from a local server standing in for the department."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from connectors.health import HealthConnector, HealthSettings
from connectors.health.client import HealthClient
from mmi.ingest import ingest_department
from mmi.store.landing import StoredSourceState
from schemas.errors import TransientError
from synthetic.health_api import HEALTH_TOKEN, start_health_api
from tests.conftest import SAMPLES
from tests.helpers import current_records, current_services, quarantined, snapshot


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "health"
    shutil.copytree(SAMPLES / "health", folder)
    return folder


def serve(data_dir: Path, **faults: int) -> Iterator[str]:
    server, base_url = start_health_api(data_dir, HEALTH_TOKEN, port=0, **faults)
    try:
        yield base_url
    finally:
        server.shutdown()


@pytest.fixture
def api(sample_dir: Path) -> Iterator[str]:
    yield from serve(sample_dir)


def connector(base_url: str, sleeps: list[float] | None = None, token: str = HEALTH_TOKEN, **options: Any) -> HealthConnector:
    settings = HealthSettings(base_url=base_url, token=token, **{"page_size": 7, "backoff_seconds": 0.01, **options})
    recorded = sleeps if sleeps is not None else []
    return HealthConnector(settings, client_factory=lambda s: HealthClient(s, sleep=recorded.append))


def test_persons_and_services_are_paged_through_completely(store: Engine, api: str) -> None:
    report = ingest_department(store, connector(api))
    assert (report.delivered, report.new_versions, report.quarantined, report.error) == (97, 97, 0, None)
    persons, services = current_records(store, "health"), current_services(store)
    assert (len(persons), len(services)) == (40, 57)
    child = persons["JK52012300000012"]
    assert child["id_number"] is None and child["guardian_id_number"] == "410221199612167785"
    assert services["EV0000000025"]["service_type"] == "VACCINATION" and json.loads(services["EV0000000025"]["detail"]) == {
        "vaccine": "DT",
        "dose": 1,
    }
    assert "page_size=7" in persons["JK33011100000001"]["location"]
    state = StoredSourceState(store, "health")
    assert state.cursor("persons") == {"updated_since": "2026-10-30T14:53:56+08:00"}


def test_a_second_run_with_nothing_new_changes_nothing(store: Engine, api: str) -> None:
    ingest_department(store, connector(api))
    before = snapshot(store)
    report = ingest_department(store, connector(api))
    assert report.new_versions == 0 and report.batch_id is None
    assert snapshot(store) == before


def test_a_refused_token_stops_the_department_with_a_fix(store: Engine, api: str) -> None:
    report = ingest_department(store, connector(api, token="wrong"))
    assert report.error and "401" in report.error and "MMI_HEALTH_TOKEN" in report.error and not report.transient
    assert current_records(store, "health") == {}


def test_rate_limits_are_waited_out_as_retry_after_says(store: Engine, sample_dir: Path) -> None:
    sleeps: list[float] = []
    for base_url in serve(sample_dir, rate_limit_every=3):
        report = ingest_department(store, connector(base_url, sleeps))
    assert report.error is None and report.new_versions == 97
    assert sleeps and all(seconds == 1.0 for seconds in sleeps)


def test_server_errors_are_retried_with_growing_backoff(store: Engine, sample_dir: Path) -> None:
    sleeps: list[float] = []
    for base_url in serve(sample_dir, fail_first=3):
        report = ingest_department(store, connector(base_url, sleeps, backoff_seconds=1.0))
    assert report.error is None and report.new_versions == 97
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1.5 and 1.0 <= sleeps[1] <= 3.0 and 2.0 <= sleeps[2] <= 6.0


def test_retries_are_bounded_and_the_failure_is_transient(store: Engine, sample_dir: Path) -> None:
    sleeps: list[float] = []
    for base_url in serve(sample_dir, error_every=1):
        report = ingest_department(store, connector(base_url, sleeps, max_attempts=4))
    assert report.transient and "failed 4 times" in (report.error or "")
    assert len(sleeps) == 3
    assert StoredSourceState(store, "health").cursor("persons") is None


def test_the_cursor_moves_only_after_a_page_is_stored(store: Engine, api: str) -> None:
    inner = connector(api)

    class DiesInSecondPage(HealthConnector):
        def deliveries(self, state):  # type: ignore[no-untyped-def]
            checkpoints = 0
            for delivery in inner.deliveries(state):
                if checkpoints == 1 and type(delivery).__name__ == "Row":
                    raise TransientError("connection reset mid-page")
                checkpoints += type(delivery).__name__ == "Checkpoint"
                yield delivery

    report = ingest_department(store, DiesInSecondPage(inner.settings), flush_rows=1)  # write at every page
    assert report.transient
    assert len(current_records(store, "health")) == 7
    first_page_newest = max(current_records(store, "health").values(), key=lambda r: r["source_updated_at"])
    assert StoredSourceState(store, "health").cursor("persons") == {"updated_since": json.loads(first_page_newest["payload"])["updated_at"]}
    ingest_department(store, connector(api))
    assert len(current_records(store, "health")) == 40
    assert all(record["version"] == 1 for record in current_records(store, "health").values())


def test_unusable_items_are_quarantined_and_the_rest_stored(store: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "health"
    folder.mkdir()
    good = json.loads((SAMPLES / "health" / "persons.jsonl").read_text(encoding="utf-8").splitlines()[0])
    no_key = {**good, "person_id": None, "updated_at": "2026-09-06T00:00:00+08:00"}
    (folder / "persons.jsonl").write_text(
        "\n".join(json.dumps(item, ensure_ascii=False) for item in (good, no_key)) + "\n{not json\n", encoding="utf-8"
    )
    service = {
        "event_id": "EV1",
        "person_id": good["person_id"],
        "service_type": "MASSAGE",
        "service_date": "2026-01-01",
        "district_code": "330111",
        "detail": {},
        "updated_at": "2026-01-01T00:00:00+08:00",
    }
    (folder / "services.jsonl").write_text(json.dumps(service) + "\n", encoding="utf-8")
    for base_url in serve(folder):
        report = ingest_department(store, connector(base_url))
    assert (report.delivered, report.new_versions, report.quarantined) == (4, 1, 3)
    reasons = sorted(q["reason"] for q in quarantined(store, "health"))
    assert any("person_id is missing" in r for r in reasons)
    assert any("not a JSON object" in r for r in reasons)
    assert any("unknown service_type 'MASSAGE'" in r for r in reasons)
