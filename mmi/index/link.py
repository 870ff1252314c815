"""`mmi link`: bring the master index up to date with the store's source records.

A run, full or incremental, goes through the same steps:
1. score: a full run scores every blocked pair of current records; an incremental one scores only the records
   the index has not linked in their current version (new keys, new versions) against everyone, and replaces the
   pairs that touched them. Scores come from the current model version with its frozen term frequencies, so a
   pair scores the same in either kind of run.
2. recluster what may have changed: an incremental run takes the changed records and those named by new
   constraints, and closes that set under "linked by a match, before or after" and "in the same master"; a full
   run takes everyone. Clusters honour must-link and cannot-link constraints (linkage.clustering).
3. carry master IDs over (linkage.master_ids), choose golden records (mmi.index.golden), and compare with what
   the index held, which gives the events.
4. write the changes, the events and the run's counts to the store in one transaction (mmi.index.writes).

Since a cluster depends only on its connected component, reclustering the closure gives what a full run would:
incremental and full runs agree, and a full run over unchanged records changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, desc, func, insert, select, update

from linkage.clustering import cluster_records
from linkage.inputs import load_person_records
from linkage.master_ids import assign_master_ids
from linkage.scoring import score_between, score_within
from mmi.config import LinkageSettings, Settings
from mmi.index.constraints import pending_constraint_keys, stored_constraints
from mmi.index.events import ASSIGNMENT, IndexChanges, compose_changes
from mmi.index.model_versions import ModelVersion, current_model, train_and_store
from mmi.index.workspace import Workspace
from mmi.index.writes import write_changes
from mmi.store.index_tables import linkage_run, master_record


@dataclass
class LinkReport:
    run_id: int
    mode: str
    model_version_id: int
    records_changed: int = 0
    records_reclustered: int = 0
    pairs_scored: int = 0
    events: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "events": dict(sorted(self.events.items()))}


def link_index(settings: Settings, engine: Engine, *, full: bool = False, now: dt.datetime | None = None) -> LinkReport:
    """Link the store's current person records into the master index; see the module's docstring."""
    started = time.monotonic()
    version = current_model(engine) or train_and_store(engine, trained_by="mmi link (the store had no model yet)")
    config = settings.linkage
    with Workspace.open(config.workspace) as workspace:
        incremental = not full and workspace.in_step_with(_last_done_run(engine), version.id)
        report = LinkReport(_start_run(engine, version.id, "incremental" if incremental else "full", config), "", version.id)
        report.mode = "incremental" if incremental else "full"
        try:
            workspace.mark_out_of_step()
            (_score_incremental if incremental else _score_full)(engine, workspace, version, config, report)
            changes = _recluster(engine, workspace, config, report)
            run = {"id": report.run_id, "model_version_id": version.id, **report.as_dict()}
            write_changes(engine, workspace.duck, run, changes, now or dt.datetime.now(dt.UTC))
            _advance_master_of(workspace)
            workspace.mark_in_step(report.run_id, version.id)
        except BaseException as error:
            _fail_run(engine, report.run_id, error)
            raise
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _score_full(engine: Engine, workspace: Workspace, version: ModelVersion, config: LinkageSettings, report: LinkReport) -> None:
    duck = workspace.duck
    workspace.load_index_from_store(engine)  # the previous state, to diff against
    report.records_changed = load_person_records(engine, duck, "records", golden_inputs="golden_inputs")
    report.pairs_scored = score_within(duck, "records", version.model, config.review_threshold, "pairs_next")
    _stage_pair_changes(workspace, touched="pairs")  # in a full run, every stored pair may change
    duck.execute("CREATE OR REPLACE TABLE pairs AS SELECT * FROM pairs_next")
    duck.execute("CREATE OR REPLACE TABLE affected AS SELECT unique_id FROM records UNION SELECT unique_id FROM master_of")


def _score_incremental(engine: Engine, workspace: Workspace, version: ModelVersion, config: LinkageSettings, report: LinkReport) -> None:
    duck = workspace.duck
    report.records_changed = load_person_records(engine, duck, "changed", golden_inputs="changed_golden", changed_only=True)
    for table, rows in (("records", "changed"), ("golden_inputs", "changed_golden")):
        duck.execute(f"DELETE FROM {table} WHERE unique_id IN (SELECT unique_id FROM {rows})")
        duck.execute(f"INSERT INTO {table} SELECT * FROM {rows}")
    if report.records_changed:
        report.pairs_scored = score_between(duck, "changed", "records", version.model, config.review_threshold, "pairs_next")
    else:
        duck.execute("CREATE OR REPLACE TABLE pairs_next AS SELECT * FROM pairs LIMIT 0")
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
    seeds = sorted(constraint_keys)  # noqa: F841 - read by DuckDB
    duck.execute("CREATE OR REPLACE TABLE affected AS SELECT unique_id FROM changed UNION SELECT unnest(CAST($seeds AS VARCHAR[]))", {"seeds": seeds})
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


def _recluster(engine: Engine, workspace: Workspace, config: LinkageSettings, report: LinkReport) -> IndexChanges:
    duck = workspace.duck
    affected = [key for (key,) in duck.execute("SELECT unique_id FROM affected JOIN records USING (unique_id) ORDER BY 1").fetchall()]
    report.records_reclustered = len(affected)
    matches = duck.execute(f"""
        SELECT left_key, right_key, match_probability FROM pairs
        WHERE match_probability >= {config.match_threshold}
          AND left_key IN (SELECT unique_id FROM affected) AND right_key IN (SELECT unique_id FROM affected)
    """).fetchall()
    must_link, cannot_link = stored_constraints(engine)
    clustering = cluster_records(affected, matches, must_link, cannot_link)
    previous = dict(duck.execute("SELECT unique_id, master_id FROM master_of WHERE unique_id IN (SELECT unique_id FROM affected)").fetchall())
    assignment = assign_master_ids(previous, clustering.cluster_of, _id_minter(engine))
    changes = compose_changes(engine, duck, assignment, previous, clustering)
    report.events = Counter(event["operation"] for event in changes.events)
    return changes


def _advance_master_of(workspace: Workspace) -> None:
    """The workspace's copy of master_xref follows the store's, now committed."""
    workspace.duck.execute("DELETE FROM master_of WHERE unique_id IN (SELECT unique_id FROM affected)")
    workspace.duck.execute(f"INSERT INTO master_of SELECT a.unique_id, a.master_id, r.version FROM {ASSIGNMENT} a JOIN records r USING (unique_id)")


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
        return int(connection.execute(insert(linkage_run).values(
            model_version_id=model_version_id, mode=mode, status="running", started_at=dt.datetime.now(dt.UTC),
            match_threshold=config.match_threshold, review_threshold=config.review_threshold,
        ).returning(linkage_run.c.id)).scalar_one())


def _fail_run(engine: Engine, run_id: int, error: BaseException) -> None:
    with engine.begin() as connection:
        connection.execute(update(linkage_run).where(linkage_run.c.id == run_id).values(
            status="failed", finished_at=dt.datetime.now(dt.UTC), error=f"{type(error).__name__}: {error}"))
