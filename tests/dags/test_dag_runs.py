"""Every DAG, run end to end by `airflow dags test` against generated feeds, and run again to change nothing.

The ingest DAGs must store exactly what `mmi ingest` stores from the same feeds (the same library call), update
their Asset with the run's report, and on a second run skip (nothing new: no Asset event, so linkage does not
run) without changing a row. Linkage and publication likewise: the second run over the same data changes
nothing but the run log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

import mmi.store.schema  # noqa: F401 - declares every table, so the snapshots see them all
from devtools.feeds import served_feeds
from mmi.config import load_settings
from mmi.ingest import ingest
from mmi.store.database import open_store
from mmi.store.index_tables import linkage_run, master_record, master_xref, model_version
from mmi.store.tables import metadata, quarantine, service_event, source_record
from tests.dags.conftest import INGEST_DAGS, Airflow
from tests.helpers import snapshot

PEOPLE = 300
# Bookkeeping a run writes even when it changes nothing else: linkage records every run; the publisher stamps
# its cursor row to take the lock. Left out when a second run is compared with the first (None: the whole table).
RUN_LOG: dict[str, set[str] | None] = {"linkage_run": None, "exchange_cursor": {"updated_at"}}
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Generated feeds for a few hundred people, the health API serving them, the config pointing at it."""
    out = tmp_path_factory.mktemp("dag-feeds")
    with served_feeds(out, people=PEOPLE, seed=13) as feeds:
        yield feeds.config


@pytest.fixture(scope="module")
def store(config: Path) -> Iterator[Engine]:
    engine = open_store(load_settings(config).store_url)
    yield engine
    engine.dispose()


FIRST_DEPARTMENT = "public_security"


@pytest.fixture(scope="module")
def linked_too_early(airflow: Airflow, config: Path, store: Engine) -> dict[str, Any]:
    """One department ingested, then the link DAG (as its Asset would start it): what that link run did, seen at
    once (later runs change it): its output, its task's state, the index's Asset events, what the store holds."""
    airflow.dags_test(INGEST_DAGS[FIRST_DEPARTMENT], env={"MMI_CONFIG": str(config)})
    output = airflow.dags_test("link_master_index", env={"MMI_CONFIG": str(config)}).stdout
    with store.connect() as connection:
        rows = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one() for table in (model_version, linkage_run)
        }
    return {
        "output": output,
        "states": airflow.last_task_states("link_master_index"),
        "events": airflow.asset_events("mmi_master_index"),
        "rows": rows,
    }


@pytest.fixture(scope="module")
def ingested(airflow: Airflow, config: Path, linked_too_early: dict[str, Any]) -> Path:
    for department, dag_id in INGEST_DAGS.items():
        if department != FIRST_DEPARTMENT:
            airflow.dags_test(dag_id, env={"MMI_CONFIG": str(config)})
    return config


@pytest.fixture(scope="module")
def linked(airflow: Airflow, ingested: Path) -> Path:
    airflow.dags_test("link_master_index", env={"MMI_CONFIG": str(ingested)})
    return ingested


def stored(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """What ingest decided, without ids and times: versions by checksum, quarantine by place and reason."""
    columns = {
        "source_record": [source_record.c[name] for name in ("department", "source_key", "version", "is_current", "payload_sha256")],
        "service_event": [service_event.c[name] for name in ("department", "source_key", "version", "is_current", "payload_sha256")],
        "quarantine": [quarantine.c[name] for name in ("department", "stream", "location", "reason", "payload_sha256")],
    }
    with engine.connect() as connection:
        return {name: {tuple(row) for row in connection.execute(select(*chosen))} for name, chosen in columns.items()}


def index_state(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, less the run bookkeeping (RUN_LOG)."""
    with engine.connect() as connection:
        return {
            name: sorted(tuple(str(value) for value in row) for row in connection.execute(select(*columns)))
            for name, table in metadata.tables.items()
            if RUN_LOG.get(name, set()) is not None
            and (columns := [column for column in table.c if column.name not in (RUN_LOG.get(name) or set())])
        }


def test_each_ingest_dag_stores_what_mmi_ingest_stores_and_updates_its_asset(
    airflow: Airflow, ingested: Path, store: Engine, tmp_path: Path
) -> None:
    settings = load_settings(ingested)
    reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    reports = ingest(dataclasses.replace(settings, store_url=str(reference.url)), reference)
    assert [report.error for report in reports] == [None] * len(INGEST_DAGS)
    assert stored(store) == stored(reference)
    departments = {department for table in ("source_record", "service_event") for department, *_ in stored(store)[table]}
    assert departments == set(INGEST_DAGS)
    for department, dag_id in INGEST_DAGS.items():
        assert airflow.last_task_states(dag_id) == ["success"], dag_id
        [event] = airflow.asset_events(f"mmi_source_records_{department}")
        report = json.loads(event)
        versions = sum(1 for table in ("source_record", "service_event") for row in stored(store)[table] if row[0] == department)
        assert report["department"] == department and report["new_versions"] == versions > 0


def test_a_link_before_every_department_is_in_skips_and_leaves_the_store_untouched(linked_too_early: dict[str, Any]) -> None:
    """The first department's ingest starts the link DAG; it must not train the model every other department will be
    linked with. The run is skipped, saying why, with no Asset event (publication does not start) and no trace in
    the store; the next department's ingest starts the next run."""
    assert linked_too_early["states"] == ["skipped"]
    assert "the first model waits for every configured department's records" in linked_too_early["output"]
    assert linked_too_early["events"] == []
    assert linked_too_early["rows"] == {"model_version": 0, "linkage_run": 0}


def test_a_second_run_of_each_ingest_dag_changes_nothing_and_announces_nothing(airflow: Airflow, ingested: Path, store: Engine) -> None:
    before = snapshot(store)
    events = {department: airflow.asset_events(f"mmi_source_records_{department}") for department in INGEST_DAGS}
    for dag_id in INGEST_DAGS.values():  # this time the config comes from the Airflow Variable mmi_config
        airflow.dags_test(dag_id, env={"AIRFLOW_VAR_MMI_CONFIG": str(ingested)})
        assert airflow.last_task_states(dag_id) == ["skipped"], dag_id
    assert snapshot(store) == before
    assert {department: airflow.asset_events(f"mmi_source_records_{department}") for department in INGEST_DAGS} == events


def test_link_master_index_links_every_record_and_a_second_full_run_changes_nothing(airflow: Airflow, linked: Path, store: Engine) -> None:
    with store.connect() as connection:
        person_records = connection.execute(select(func.count()).select_from(source_record).where(source_record.c.is_current)).scalar_one()
        linked_records = connection.execute(select(func.count()).select_from(master_xref)).scalar_one()
        masters = connection.execute(select(func.count()).select_from(master_record).where(master_record.c.status == "active")).scalar_one()
    assert linked_records == person_records and 0 < masters < person_records  # every record in a master; people merged
    [event] = airflow.asset_events("mmi_master_index")
    assert json.loads(event)["changed"] is True
    before = index_state(store)
    # Again, and as a full run (the DAG's `full` param): re-scoring and re-clustering everyone changes nothing either.
    airflow.dags_test("link_master_index", env={"MMI_CONFIG": str(linked)}, conf='{"full": true}')
    assert airflow.last_task_states("link_master_index") == ["skipped"]
    after = index_state(store)
    # The audit log records the run itself (its leaf, the tree's head, a checkpoint): it grows, and nothing else changes.
    audit_log = {"audit_leaf", "audit_head", "audit_checkpoint"}
    assert [name for name in before if name not in audit_log and after[name] != before[name]] == []
    logged = sorted(set(after["audit_leaf"]) - set(before["audit_leaf"]))
    assert [leaf[1] for leaf in logged] == ["linkage_run"] and set(before["audit_leaf"]) <= set(after["audit_leaf"])
    with store.connect() as connection:
        runs = connection.execute(select(linkage_run.c.mode, linkage_run.c.status, linkage_run.c.events).order_by(linkage_run.c.id)).all()
    assert [tuple(run) for run in runs][-1] == ("full", "done", 0)
    assert airflow.asset_events("mmi_master_index") == [event]


def test_publish_change_sets_publishes_once_and_a_second_run_changes_nothing(airflow: Airflow, linked: Path, store: Engine) -> None:
    from mmi.exchange import exchange_settings

    out_dir = exchange_settings(load_settings(linked)).out_dir
    airflow.dags_test("publish_change_sets", env={"MMI_CONFIG": str(linked)})
    [event] = airflow.asset_events("mmi_change_sets")
    report = json.loads(event)
    assert report["deliveries"] > 0 and report["changesets"]
    files = {path.relative_to(out_dir): hashlib.sha256(path.read_bytes()).hexdigest() for path in out_dir.rglob("*") if path.is_file()}
    assert len(files) >= sum(len(numbers) for numbers in report["changesets"].values())
    before = index_state(store)
    airflow.dags_test("publish_change_sets", env={"MMI_CONFIG": str(linked)})
    assert airflow.last_task_states("publish_change_sets") == ["skipped"]
    assert index_state(store) == before
    assert {
        path.relative_to(out_dir): hashlib.sha256(path.read_bytes()).hexdigest() for path in out_dir.rglob("*") if path.is_file()
    } == files
    assert airflow.asset_events("mmi_change_sets") == [event]


def test_compute_indicators_writes_the_days_snapshot_and_a_second_run_replaces_it(airflow: Airflow, linked: Path, store: Engine) -> None:
    from mmi.store.indicator_tables import indicator_snapshot

    def stored() -> list[tuple[Any, ...]]:
        columns = [c for c in indicator_snapshot.c if c.name not in ("id", "computed_at")]
        with store.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(select(*columns).order_by(indicator_snapshot.c.indicator, indicator_snapshot.c.area))
            ]

    airflow.dags_test("compute_indicators", env={"MMI_CONFIG": str(linked)}, conf='{"as_of": "2026-10-31"}')
    [event] = airflow.asset_events("mmi_indicators")
    report = json.loads(event)
    assert report["as_of"] == "2026-10-31" and report["definition_version"] == "v1"
    first = stored()
    assert len(first) == report["rows"] and {row[0] for row in first} >= {"health_record", "registration_completeness"}
    assert {row[1] for row in first if row[2] == "all"} == {"all"}
    airflow.dags_test("compute_indicators", env={"MMI_CONFIG": str(linked)}, conf='{"as_of": "2026-10-31"}')
    assert stored() == first  # the same day again: replaced, not doubled
