"""What every Master Migrant Index DAG shares: the Assets (declared once), task defaults, and the ingest DAG shape.

Nothing here touches a database or reads the config at parse time: the tasks import the library (`mmi.tasks`)
and read `MMI_CONFIG` (or the Airflow Variable `mmi_config`) only when they run. This file is not a DAG file
(`.airflowignore` says so); the DAG files import it from the DAG folder, which Airflow puts on `sys.path`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, ExceptionRetryPolicy, RetryAction, RetryRule, Variable, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from connectors.registry import DEPARTMENTS  # the departments' names only: nothing is read or opened at parse time

TIMEZONE = "Asia/Shanghai"  # the departments' working hours decide when their feeds are ready
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)

SOURCE_RECORDS: dict[str, Asset] = {
    department: Asset(name=f"mmi_source_records_{department}", uri=f"x-mmi://store/source_records/{department}", group="mmi")
    for department in DEPARTMENTS
}
MASTER_INDEX = Asset(name="mmi_master_index", uri="x-mmi://store/master_index", group="mmi")
CHANGE_SETS = Asset(name="mmi_change_sets", uri="x-mmi://store/outbox", group="mmi")
INDICATORS = Asset(name="mmi_indicators", uri="x-mmi://store/indicator_snapshot", group="mmi")

# The queue of the heavy linkage task: under the CeleryExecutor, only workers listening on it run linkage, so the
# ingest workers stay small (`airflow celery worker -q linkage`); the LocalExecutor and `airflow dags test` ignore
# queues. Every other task goes to Airflow's `[operators] default_queue`. Read from the environment while parsing
# (no file, database or socket): the dag-processor must see the same value as the workers.
LINKAGE_QUEUE = os.environ.get("MMI_LINKAGE_QUEUE") or "linkage"

# Transient failures (a department's API down, rate limits past what the client waits out) retry with growing
# delays: 2, 4, 8, 16 minutes (at most an hour). A failure the library calls terminal (any other MMIError: bad
# config, credentials, a missing folder) fails at once: retrying cannot fix it. The store failing to open (its
# database restarting, or a schema to migrate) and anything unforeseen take the same retries as a transient one.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception="schemas.errors.TransientError", action=RetryAction.RETRY, reason="may pass: retry with backoff"),
        RetryRule(
            exception="schemas.errors.StoreError", action=RetryAction.DEFAULT, reason="the store may be back soon: the usual retries"
        ),
        RetryRule(exception="schemas.errors.MMIError", action=RetryAction.FAIL, reason="must be fixed first: see the error"),
    ]
)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "mmi",
    "retries": 4,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(hours=1),
    "retry_policy": RETRY_POLICY,
    "execution_timeout": timedelta(hours=6),
}
DAG_ARGS: dict[str, Any] = {
    "start_date": START,
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "tags": ["mmi"],
}


def config_path() -> str | None:
    """The mmi config file: `$MMI_CONFIG`, else the Airflow Variable `mmi_config`. Call only inside a task."""
    return os.environ.get("MMI_CONFIG") or Variable.get("mmi_config", default=None) or None


def ingest_dag(department: str, schedule: Any, doc: str | None) -> DAG:
    """The DAG `ingest_<department>`: one task ingesting the department's feed, updating its Asset.

    When nothing new was stored the task is skipped: the Asset is not updated and linkage does not run.
    """
    asset = SOURCE_RECORDS[department]

    @dag(dag_id=f"ingest_{department}", schedule=schedule, doc_md=doc, **DAG_ARGS)
    def ingest_department() -> None:
        @task(task_id="ingest", outlets=[asset])
        def ingest(*, outlet_events: Any = None) -> dict[str, Any]:
            from mmi.tasks import run_ingest

            return announce(run_ingest(department, config_path()), asset, outlet_events)

        ingest()

    return ingest_department()


def announce(summary: dict[str, Any], asset: Asset, outlet_events: Any) -> dict[str, Any]:
    """Attach the step's summary to its Asset event, or skip the task (no event: the next DAG does not run) when
    the step changed nothing or could not run yet."""
    if summary.get("not_configured"):
        raise AirflowSkipException(f"not configured: the mmi config has no [sources.{summary.get('department')}] section")
    if summary.get("not_ready"):  # a first link before every department's records: the next ingest's run trains
        raise AirflowSkipException(summary["not_ready"])
    if not summary["changed"]:
        raise AirflowSkipException(f"nothing new: {summary}")
    outlet_events[asset].extra = summary
    return summary
