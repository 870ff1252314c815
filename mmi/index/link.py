"""`mmi link`: bring the master index up to date with the store's source records.

A run, full or incremental, goes through the same steps:
1. score: a full run scores every blocked pair of current records; an incremental one scores only the records
   the index has not linked in their current version (new keys, new versions) against everyone, and replaces the
   pairs that touched them. Scores come from the current model version with its frozen term frequencies, so a
   pair scores the same in either kind of run.
2. recluster what may have changed: an incremental run takes the changed records and those named by new
   constraints, and closes that set under "linked by a match, before or after" and "in the same master"; a full
   run takes everyone. Clusters honour must-link and cannot-link constraints and identity conflicts
   (linkage.clustering, linkage.conflicts); matches a conflict refused are kept for stewards (mmi.index.conflicts),
   and no master may end up holding two conflicting ID numbers (checked over the whole index before writing).
3. carry master IDs over (linkage.master_ids), choose golden records (mmi.index.golden), and compare with what
   the index held, which gives the events.
4. write the changes, the events and the run's counts to the store in one transaction (mmi.index.writes).

Since a cluster depends only on its connected component, reclustering the closure gives what a full run would:
incremental and full runs agree, and a full run over unchanged records changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import resource
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, desc, func, insert, select, update

from linkage.clustering import cluster_records
from linkage.master_ids import MasterEvent, assign_master_ids
from linkage.scoring import LinkageEngine
from mmi.audit.checkpoints import audit_settings, make_checkpoint
from mmi.config import LinkageSettings, Settings
from mmi.failpoints import failpoint
from mmi.index.conflicts import check_identity_invariant, conflict_rows, identities_of
from mmi.index.constraints import pending_constraint_keys, stored_constraints
from mmi.index.engines import linkage_engine
from mmi.index.events import ASSIGNMENT, GOLDEN_CHANGED, GOLDEN_NEXT, IndexChanges, compose_changes
from mmi.index.inputs import load_person_records
from mmi.index.model_versions import ModelVersion, current_model, departments_delivered, train_and_store
from mmi.index.workspace import Workspace
from mmi.index.writes import write_changes
from mmi.store.database import refresh_statistics
from mmi.store.faults import describe
from mmi.store.heartbeat import Heartbeat, fail_dead_runs, running_columns
from mmi.store.index_tables import linkage_run, master_record
from mmi.store.locks import step_lock


class Stages:
    """Where a run's time and memory went: each stage's wall seconds, and the process's peak resident memory once
    it ended (a peak that jumps at a stage is that stage's)."""

    def __init__(self) -> None:
        self.timings: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
            self.timings[name] = {"seconds": round(time.monotonic() - started, 2), "peak_rss_mib": round(peak_kib / 1024)}


@dataclass
class LinkReport:
    run_id: int
    mode: str
    model_version_id: int
    records_changed: int = 0
    records_reclustered: int = 0
    pairs_scored: int = 0
    conflicts_refused: int = 0  # matches an identity conflict kept apart (link_conflict rows written by this run)
    events: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    stages: Stages = field(default_factory=Stages)

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "events": dict(sorted(self.events.items())), "stages": self.stages.timings}


def link_index(
    settings: Settings, engine: Engine, *, full: bool = False, now: dt.datetime | None = None, on: LinkageEngine | None = None
) -> LinkReport:
    """Link the store's current person records into the master index; see the module's docstring. Splink runs `on`
    the engine given, else the one `[linkage] backend` names."""
    store = settings.store
    with step_lock(engine, "link", store.lock_wait_seconds):  # across machines: the workspace only locks its own file
        fail_dead_runs(engine, linkage_run, store.stale_after_seconds)
        return _link_locked(settings, engine, full=full, now=now, on=on)


def _link_locked(settings: Settings, engine: Engine, *, full: bool, now: dt.datetime | None, on: LinkageEngine | None) -> LinkReport:
    started = time.monotonic()
    splink = on or linkage_engine(settings)
    stages = Stages()
    version = current_model(engine)
    config = settings.linkage
    with Workspace.open(config.workspace) as workspace:
        loaded = None
        if version is None:  # the first run trains on the records it links: read from the store once, for both
            workspace.mark_out_of_step()
            with departments_delivered(engine, settings.configured_sources, settings.store.lock_wait_seconds), stages.stage("load_records"):
                loaded = _load_all_records(engine, workspace)
            with stages.stage("train"):
                version = train_and_store(
                    engine,
                    trained_by="mmi link (the store had no model yet)",
                    on=splink,
                    loaded=workspace.duck.table("records").arrow(),
                )
        in_step = workspace.in_step_with(_last_done_run(engine), version.id)
        mode = "incremental" if in_step and not full else "full"
        report = LinkReport(_start_run(engine, version.id, mode, config), mode, version.id, stages=stages)
        try:
            with Heartbeat(engine, linkage_run, report.run_id, settings.store.heartbeat_seconds):
                failpoint("link_after_start")
                workspace.mark_out_of_step()
                if mode == "incremental":
                    _score_incremental(engine, workspace, splink, version, config, report)
                else:
                    _score_full(engine, workspace, splink, version, config, report, reload_index=not in_step, loaded=loaded)
                failpoint("link_after_score")
                changes = _recluster(engine, workspace, config, report, full=mode == "full")
                failpoint("link_after_recluster")
                run = {"id": report.run_id, "model_version_id": version.id, **report.as_dict()}
                with stages.stage("write"):
                    write_changes(engine, workspace.duck, run, changes, now or dt.datetime.now(dt.UTC))
                failpoint("link_after_commit")
                with stages.stage("advance_workspace"):
                    _advance_workspace(workspace, changes, full=mode == "full")
                    workspace.mark_in_step(report.run_id, version.id)
                review_scope = changes.conflict_scope
                del changes  # stored: a first run's events need not sit in memory beside the review queue's view below
        except BaseException as error:
            _fail_run(engine, report.run_id, error)
            raise
    failpoint("link_after_workspace")
    with stages.stage("statistics"):
        refresh_statistics(engine)  # a run rewrites much of the index: the planner's statistics follow
    from mmi.review.refresh import refresh_queue  # here: the review service reads the index through mmi.index

    # The stewards' queue follows the index: resolved items leave, new ones arrive (after an incremental run, only
    # about the records it reclustered).
    with stages.stage("review_queue"):
        refresh_queue(engine, scope=review_scope)
    with stages.stage("checkpoint"):
        make_checkpoint(engine, audit_settings(settings), "link")  # signs the run's leaves (mmi.audit)
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _score_full(
    engine: Engine,
    workspace: Workspace,
    splink: LinkageEngine,
    version: ModelVersion,
    config: LinkageSettings,
    report: LinkReport,
    *,
    reload_index: bool,
    loaded: int | None,
) -> None:
    """Score every current record; `loaded`: how many the run has already read into the workspace, if it has."""
    duck, stage = workspace.duck, report.stages.stage
    if reload_index:  # the previous state, to diff against; an in-step workspace already holds it
        with stage("load_index"):
            workspace.load_index_from_store(engine)
    if loaded is None:
        with stage("load_records"):
            loaded = _load_all_records(engine, workspace)
    report.records_changed = loaded
    with stage("score"):
        report.pairs_scored = splink.score_within(duck, "records", version.model, config.review_threshold, "pairs_next")
    with stage("diff_pairs"):
        _stage_pair_changes(workspace, touched="pairs")  # in a full run, every stored pair may change
        duck.execute("CREATE OR REPLACE TABLE pairs AS SELECT * FROM pairs_next")
        duck.execute("CREATE OR REPLACE TABLE affected AS SELECT unique_id FROM records UNION SELECT unique_id FROM master_of")


def _load_all_records(engine: Engine, workspace: Workspace) -> int:
    """Every current person record into the workspace's `records` and `golden_inputs`; how many."""
    return load_person_records(engine, workspace.duck, "records", golden_inputs="golden_inputs")


def _score_incremental(
    engine: Engine, workspace: Workspace, splink: LinkageEngine, version: ModelVersion, config: LinkageSettings, report: LinkReport
) -> None:
    duck, stage = workspace.duck, report.stages.stage
    with stage("load_records"):
        report.records_changed = load_person_records(engine, duck, "changed", golden_inputs="changed_golden", changed_only=True)
        for table, rows in (("records", "changed"), ("golden_inputs", "changed_golden")):
            duck.execute(f"DELETE FROM {table} WHERE unique_id IN (SELECT unique_id FROM {rows})")
            duck.execute(f"INSERT INTO {table} SELECT * FROM {rows}")
    with stage("score"):
        if report.records_changed:
            report.pairs_scored = splink.score_between(duck, "changed", "records", version.model, config.review_threshold, "pairs_next")
        else:
            duck.execute("CREATE OR REPLACE TABLE pairs_next AS SELECT * FROM pairs LIMIT 0")
    with stage("diff_pairs"):
        duck.execute("""CREATE OR REPLACE TABLE touched AS SELECT * FROM pairs
                        WHERE left_key IN (SELECT unique_id FROM changed) OR right_key IN (SELECT unique_id FROM changed)""")
        _stage_pair_changes(workspace, touched="touched")
        _close_affected(workspace, config.match_threshold, pending_constraint_keys(engine))
        duck.execute("DELETE FROM pairs WHERE left_key IN (SELECT unique_id FROM changed) OR right_key IN (SELECT unique_id FROM changed)")
        duck.execute("INSERT INTO pairs SELECT * FROM pairs_next")


def _stage_pair_changes(workspace: Workspace, touched: str) -> None:
    """`pairs_removed` and `pairs_added`: how the store's match_pair goes from the `touched` pairs to `pairs_next`
    (a pair whose score changed is both)."""
    workspace.duck.execute(f"CREATE OR REPLACE TABLE pairs_removed AS SELECT * FROM {touched} EXCEPT SELECT * FROM pairs_next")
    workspace.duck.execute(f"CREATE OR REPLACE TABLE pairs_added AS SELECT * FROM pairs_next EXCEPT SELECT * FROM {touched}")


def _close_affected(workspace: Workspace, match_threshold: float, constraint_keys: set[str]) -> None:
    """`affected`: the changed records and constrained ones, closed under matches (old or new) and masters."""
    duck = workspace.duck
    seeds = sorted(constraint_keys)
    duck.execute(
        "CREATE OR REPLACE TABLE affected AS SELECT unique_id FROM changed UNION SELECT unnest(CAST($seeds AS VARCHAR[]))", {"seeds": seeds}
    )
    duck.execute(f"""CREATE OR REPLACE TEMP TABLE links AS
        SELECT left_key AS a, right_key AS b FROM (SELECT * FROM pairs UNION ALL SELECT * FROM pairs_next)
        WHERE match_probability >= {match_threshold}""")
    while True:
        added = duck.execute("""
            WITH reached AS (
                SELECT l.b AS unique_id FROM links l JOIN affected a ON l.a = a.unique_id
                UNION SELECT l.a FROM links l JOIN affected a ON l.b = a.unique_id
                UNION SELECT m2.unique_id FROM master_of m1 JOIN affected a USING (unique_id) JOIN master_of m2 ON m1.master_id = m2.master_id
            ), fresh AS (SELECT unique_id FROM reached EXCEPT SELECT unique_id FROM affected)
            INSERT INTO affected SELECT unique_id FROM fresh RETURNING 1
        """).fetchall()
        if not added:
            break


def _recluster(engine: Engine, workspace: Workspace, config: LinkageSettings, report: LinkReport, *, full: bool) -> IndexChanges:
    duck, stage = workspace.duck, report.stages.stage
    with stage("cluster"):
        affected = [key for (key,) in duck.execute("SELECT unique_id FROM affected JOIN records USING (unique_id) ORDER BY 1").fetchall()]
        report.records_reclustered = len(affected)
        matches = duck.execute(f"""
            SELECT left_key, right_key, match_probability, match_weight FROM pairs
            WHERE match_probability >= {config.match_threshold}
              AND left_key IN (SELECT unique_id FROM affected) AND right_key IN (SELECT unique_id FROM affected)
        """).fetchall()
        must_link, cannot_link = stored_constraints(engine)
        clustering = cluster_records(
            affected, [(left, right, p) for left, right, p, _ in matches], must_link, cannot_link, identities_of(duck)
        )
    with stage("master_ids"):
        master_of, membership = _carry_master_ids(engine, duck, clustering.cluster_of)
    with stage("golden_and_events"):
        changes = compose_changes(duck, master_of, membership)
        check_identity_invariant(duck, must_link)
    weights = {(left, right): weight for left, right, _, weight in matches}
    changes.conflicts = conflict_rows(clustering.identity_conflicts, weights, master_of)
    changes.conflict_scope = None if full else affected
    report.events = Counter(event["operation"] for event in changes.events)
    report.conflicts_refused = len(changes.conflicts)
    return changes


def _carry_master_ids(
    engine: Engine, duck: duckdb.DuckDBPyConnection, cluster_of: dict[str, str]
) -> tuple[dict[str, str], list[MasterEvent]]:
    """Master IDs for the new clusters, and the membership events. A cluster holding exactly one previous master's
    records keeps its ID with no event (found in SQL: most clusters, in most runs); linkage.master_ids decides
    the rest, which it can do apart because none of their masters touches an unchanged cluster."""
    staged = pa.table(  # noqa: F841 - read by DuckDB by its name
        {
            "unique_id": pa.array(list(cluster_of), pa.string()),
            "cluster_id": pa.array(list(cluster_of.values()), pa.string()),
        }
    )
    duck.execute("CREATE OR REPLACE TABLE clusters_next AS SELECT * FROM staged")
    duck.execute("""
        CREATE OR REPLACE TABLE unchanged_clusters AS
        WITH previous AS (SELECT m.unique_id, m.master_id FROM master_of m JOIN clusters_next USING (unique_id)),
             per_cluster AS (SELECT c.cluster_id, count(*) AS size, count(p.master_id) AS linked, min(p.master_id) AS first, max(p.master_id) AS last
                             FROM clusters_next c LEFT JOIN previous p USING (unique_id) GROUP BY c.cluster_id),
             master_sizes AS (SELECT master_id, count(*) AS size FROM master_of GROUP BY master_id)
        SELECT c.cluster_id, c.first AS master_id FROM per_cluster c JOIN master_sizes s ON s.master_id = c.first
        WHERE c.linked = c.size AND c.first = c.last AND s.size = c.size
    """)
    kept = dict(
        duck.execute("SELECT c.unique_id, u.master_id FROM clusters_next c JOIN unchanged_clusters u USING (cluster_id)").fetchall()
    )
    rest = {record: cluster for record, cluster in cluster_of.items() if record not in kept}
    previous = dict(
        duck.execute("""SELECT m.unique_id, m.master_id FROM master_of m JOIN clusters_next c USING (unique_id)
                                    WHERE c.cluster_id NOT IN (SELECT cluster_id FROM unchanged_clusters)""").fetchall()
    )
    assignment = assign_master_ids(previous, rest, _id_minter(engine))
    return kept | assignment.master_of, assignment.events


def _advance_workspace(workspace: Workspace, changes: IndexChanges, *, full: bool) -> None:
    """The workspace's copies of master_xref and master_record follow the store's, now committed. A full run
    reclustered every record, so its assignment and golden records replace the copies outright."""
    duck = workspace.duck
    duck.execute("DELETE FROM master_of" + ("" if full else " WHERE unique_id IN (SELECT unique_id FROM affected)"))
    duck.execute(f"INSERT INTO master_of SELECT a.unique_id, a.master_id, r.version FROM {ASSIGNMENT} a JOIN records r USING (unique_id)")
    if full:
        duck.execute(f"DELETE FROM golden; INSERT INTO golden SELECT * FROM {GOLDEN_NEXT}")
        return
    retired = pa.table({"master_id": pa.array(list(changes.retired), pa.string())})  # noqa: F841 - read by DuckDB
    duck.execute(f"DELETE FROM golden WHERE master_id IN (SELECT master_id FROM {GOLDEN_CHANGED} UNION ALL SELECT master_id FROM retired)")
    duck.execute(f"INSERT INTO golden SELECT * EXCLUDE (is_new, previous_json) FROM {GOLDEN_CHANGED}")


def _id_minter(engine: Engine):  # type: ignore[no-untyped-def]
    """New master IDs continue the store's sequence: M000000001, M000000002, … (zero-padded, so they sort by age)."""
    with engine.connect() as connection:
        highest = connection.execute(select(func.max(master_record.c.master_id))).scalar()
    counter = [int(highest[1:]) if highest else 0]

    def mint() -> str:
        counter[0] += 1
        return f"M{counter[0]:09d}"

    return mint


def _last_done_run(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            select(linkage_run.c.id).where(linkage_run.c.status == "done").order_by(desc(linkage_run.c.id)).limit(1)
        ).scalar()


def _start_run(engine: Engine, model_version_id: int, mode: str, config: LinkageSettings) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(linkage_run)
                .values(
                    model_version_id=model_version_id,
                    mode=mode,
                    status="running",
                    started_at=dt.datetime.now(dt.UTC),
                    match_threshold=config.match_threshold,
                    review_threshold=config.review_threshold,
                    **running_columns(),
                )
                .returning(linkage_run.c.id)
            ).scalar_one()
        )


def _fail_run(engine: Engine, run_id: int, error: BaseException) -> None:
    """The run failed: say so, without the values a database's error carries. If the store is the failure and
    does not answer, the row stays running, and its stopped heartbeat lets the next run mark it."""
    with contextlib.suppress(Exception), engine.begin() as connection:
        connection.execute(
            update(linkage_run)
            .where(linkage_run.c.id == run_id)
            .values(status="failed", finished_at=dt.datetime.now(dt.UTC), error=describe(error))
        )
