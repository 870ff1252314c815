"""The master index end to end on generated feeds, on SQLite and PostgreSQL: stability, incremental = full,
constraints, events that match the index exactly, model versions, and all-or-nothing writes."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from mmi.index import add_constraint, link_index
from mmi.index.evaluation import evaluate_index
from mmi.index.golden import GOLDEN_FIELDS
from mmi.store.index_tables import link_conflict, linkage_run, master_event, master_record, master_xref, match_pair, model_version
from mmi.store.locks import StepLocked, step_lock
from schemas.errors import NotReadyToTrain

INDEX_TABLES = (master_record, master_xref, match_pair, link_conflict)


def index_state(engine: Engine) -> dict[str, Any]:
    """The index's tables (without the run that last touched each row), and the number of events."""
    state: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in INDEX_TABLES:
            columns = [column for column in table.c if not column.name.endswith("run_id")]
            state[table.name] = sorted(tuple(row) for row in connection.execute(select(*columns)))
        state["events"] = connection.execute(select(func.count()).select_from(master_event)).scalar_one()
    return state


def members(engine: Engine) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    with engine.connect() as connection:
        for department, key, master in connection.execute(
            select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id)
        ):
            groups[master].add(f"{department}|{key}")
    return groups


def test_a_full_run_on_unchanged_records_changes_nothing(index) -> None:  # type: ignore[no-untyped-def]
    settings, engine = index()
    first = link_index(settings, engine)
    assert first.mode == "full" and first.events["create"] == len(members(engine)) > 600
    before = index_state(engine)
    again = link_index(settings, engine, full=True)
    assert again.mode == "full" and not again.events
    assert index_state(engine) == before
    incremental = link_index(settings, engine)
    assert incremental.mode == "incremental" and incremental.records_changed == 0 and not incremental.events
    assert index_state(engine) == before


def test_an_incremental_run_agrees_with_a_full_one(index) -> None:  # type: ignore[no-untyped-def]
    settings, engine = index()
    link_index(settings, engine)
    settings, engine = index(delta=True)
    incremental = link_index(settings, engine)
    assert incremental.mode == "incremental"
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(master_xref)).scalar_one()
    assert 0 < incremental.records_changed < incremental.records_reclustered < total / 2  # only what changed, and its clusters
    assert incremental.events["create"] > 0 and incremental.events["update"] > 0
    after_incremental = index_state(engine)
    full = link_index(settings, engine, full=True)  # re-scores and re-clusters everyone: must find nothing to change
    assert full.mode == "full" and not full.events
    assert index_state(engine) == after_incremental
    assert settings.config_path
    accuracy = evaluate_index(engine, settings.config_path.parent / "truth.csv")
    assert accuracy["precision"] >= 0.99 and accuracy["recall"] >= 0.98, accuracy


def test_constraints_split_and_merge_and_hold_in_every_later_run(index) -> None:  # type: ignore[no-untyped-def]
    settings, engine = index()
    link_index(settings, engine)
    groups = members(engine)
    kept, pair_master = next((master, sorted(records)) for master, records in sorted(groups.items()) if len(records) == 3)
    add_constraint(engine, "cannot_link", pair_master[0], pair_master[1], reason="test: different people", decided_by="steward")
    split = link_index(settings, engine)
    assert split.mode == "incremental" and split.events["split"] == 1
    after = members(engine)
    assert not any({pair_master[0], pair_master[1]} <= records for records in after.values())
    assert kept in after and len(after[kept]) >= 2  # the ID stays on the larger part

    singles = sorted(master for master, records in after.items() if len(records) == 1)
    older, newer = singles[0], singles[1]
    add_constraint(
        engine, "must_link", next(iter(after[older])), next(iter(after[newer])), reason="test: same person", decided_by="steward"
    )
    merged = link_index(settings, engine)
    assert merged.events == {"merge": 1, "retire": 1}
    final = members(engine)
    assert newer not in final and len(final[older]) == 2  # the older ID survives
    with engine.connect() as connection:
        retired = connection.execute(
            select(master_record.c.status, master_record.c.successor_id).where(master_record.c.master_id == newer)
        ).one()
    assert tuple(retired) == ("retired", older)

    state = index_state(engine)
    assert not link_index(settings, engine, full=True).events  # a full run honours both decisions
    assert index_state(engine) == state


def test_events_replayed_in_order_rebuild_the_index(index) -> None:  # type: ignore[no-untyped-def]
    settings, engine = index()
    link_index(settings, engine)
    groups = members(engine)
    two = sorted(master for master, records in groups.items() if len(records) >= 2)[:2]
    add_constraint(engine, "must_link", sorted(groups[two[0]])[0], sorted(groups[two[1]])[0], reason="test", decided_by="steward")
    link_index(settings, engine)
    settings, engine = index(delta=True)
    link_index(settings, engine)

    replayed_members: dict[str, set[str]] = {}
    replayed_golden: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for event in connection.execute(select(master_event).order_by(master_event.c.seq)):
            if event.operation == "retire":
                replayed_members.pop(event.master_id)
                replayed_golden.pop(event.master_id)
                continue
            replayed_members[event.master_id] = set(json.loads(event.records_after))
            golden_after = json.loads(event.golden_after)
            changed = {name for name in GOLDEN_FIELDS if replayed_golden.get(event.master_id, {}).get(name) != golden_after.get(name)}
            assert changed == set(json.loads(event.changed_fields))
            replayed_golden[event.master_id] = golden_after
        stored = {row.master_id: row for row in connection.execute(select(master_record).where(master_record.c.status == "active"))}
    assert replayed_members == members(engine)
    assert set(replayed_golden) == set(stored)
    for master, golden in replayed_golden.items():
        row = stored[master]
        assert golden == {
            name: (value.isoformat() if hasattr(value, "isoformat") else value)
            for name, value in ((name, getattr(row, name)) for name in GOLDEN_FIELDS)
        }


def test_every_run_names_its_model_version_and_a_new_model_relinks_everyone(index) -> None:  # type: ignore[no-untyped-def]
    from mmi.index.model_versions import current_model, save_model_version

    settings, engine = index()
    first = link_index(settings, engine)
    current = current_model(engine)
    assert current and first.model_version_id == current.id
    retuned = json.loads(json.dumps(current.model.settings))
    retuned["probability_two_random_records_match"] *= 2
    newer = save_model_version(engine, type(current.model)(retuned, current.model.term_frequencies), "tests", {"records": "fixture"})
    second = link_index(settings, engine)
    assert second.mode == "full" and second.model_version_id == newer.id != first.model_version_id
    with engine.connect() as connection:
        runs = connection.execute(select(linkage_run.c.model_version_id).order_by(linkage_run.c.id)).scalars().all()
        versions = connection.execute(select(func.count()).select_from(model_version)).scalar_one()
        pair_versions = set(connection.execute(select(match_pair.c.model_version_id).distinct()).scalars())
    assert runs == [first.model_version_id, newer.id] and versions == 2 and pair_versions == {newer.id}


def test_a_first_run_trains_on_the_records_it_links_and_reports_where_its_time_went(index, model) -> None:  # type: ignore[no-untyped-def]
    from mmi.index.model_versions import current_model

    settings, engine = index()
    with engine.begin() as connection:  # a store with no current model: the run must train one
        connection.execute(update(model_version).values(is_current=False))
    first = link_index(settings, engine)
    trained = current_model(engine)
    assert trained and first.model_version_id == trained.id
    # Trained on the records the run read into its workspace, not read again: the same records as a model trained
    # on the store's directly (the module's fixture) saw, whose term frequencies are counted over every record (its
    # u probabilities come from random samples, which differ from one training to the next), as many as it linked.
    assert trained.model.term_frequencies == model.term_frequencies
    with engine.connect() as connection:
        trained_on = json.loads(connection.execute(select(model_version.c.trained_on).where(model_version.c.id == trained.id)).scalar_one())
    assert trained_on["records"] == first.records_changed == sum(trained_on["per_department"].values())
    first_stages = first.as_dict()["stages"]
    assert list(first_stages)[:2] == ["load_records", "train"] and {"score", "cluster", "write", "review_queue"} <= set(first_stages)
    assert all(stage["seconds"] >= 0 and stage["peak_rss_mib"] > 0 for stage in first_stages.values())
    again = link_index(settings, engine)
    assert again.mode == "incremental" and "train" not in again.stages.timings and "score" in again.stages.timings


def test_a_first_run_waits_for_every_configured_department_and_for_enough_pairs(index, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The first ingest to finish does not get to train the model every later department is linked with, nor does a
    department half ingested: the run says what it waits for (or waits for the ingest under way) and leaves nothing
    behind; once every department is in, the next run trains on all of them."""
    import mmi.index.model_versions as model_versions
    from mmi.index.model_versions import current_model

    settings, engine = index(only="public_security")
    with engine.begin() as connection:  # a store with no current model: a run must train one
        connection.execute(update(model_version).values(is_current=False))
    with pytest.raises(NotReadyToTrain, match="and human_resources, statistics, health has not delivered yet"):
        link_index(settings, engine)
    assert current_model(engine) is None
    assert index_state(engine) == {"master_record": [], "master_xref": [], "match_pair": [], "link_conflict": [], "events": 0}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(linkage_run)).scalar_one() == 0  # no run started

    settings, engine = index()  # the other departments ingested; then health's next delivery starts and is not over
    impatient = dataclasses.replace(settings, store=dataclasses.replace(settings.store, lock_wait_seconds=0.5))
    with step_lock(engine, "ingest:health", 0), pytest.raises(StepLocked, match="step 'ingest:health' is running elsewhere"):
        link_index(impatient, engine)  # it waits for that ingest as for any lock, then says so (exit 1: retry)
    with monkeypatch.context() as patched:  # the pairs' floor, raised past what these feeds give, refuses too
        patched.setattr(model_versions, "MIN_TRAINING_PAIRS", 10**9)
        with pytest.raises(NotReadyToTrain, match=r"`l.id_number = r.id_number` gives \d+; `l.name_pinyin = .*` gives \d+"):
            link_index(settings, engine)
    assert current_model(engine) is None
    first = link_index(settings, engine)
    trained = current_model(engine)
    assert trained and first.model_version_id == trained.id and first.mode == "full"
    with engine.connect() as connection:
        trained_on = json.loads(connection.execute(select(model_version.c.trained_on).where(model_version.c.id == trained.id)).scalar_one())
    assert (
        set(trained_on["per_department"])
        == set(settings.configured_sources)
        == {"public_security", "human_resources", "statistics", "health"}
    )


def test_a_run_that_fails_while_writing_leaves_no_trace_and_the_next_run_recovers(index, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import mmi.index.writes as writes

    settings, engine = index()

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(writes, "_write_pairs", broken)  # after masters and xref were written, before the events
    with pytest.raises(RuntimeError, match="disk full"):
        link_index(settings, engine)
    assert index_state(engine) == {"master_record": [], "master_xref": [], "match_pair": [], "link_conflict": [], "events": 0}
    with engine.connect() as connection:
        assert connection.execute(select(linkage_run.c.status, linkage_run.c.error)).one() == (
            "failed",
            "RuntimeError: disk full (simulated)",
        )
    monkeypatch.undo()
    recovered = link_index(settings, engine)
    assert recovered.mode == "full" and recovered.events["create"] == len(members(engine))
