"""The steps a scheduler runs: the same library functions as the `mmi` command, with failures raised.

The command line turns a department's failure into an exit code (1: retry later, 2: fix first); a scheduler needs
an exception instead, so that it retries what may pass and stops on what must be fixed. Each function here loads
the settings (`config`, else `$MMI_CONFIG`), opens the store, runs one step and returns a plain summary (JSON
values only, for Airflow's XCom and Asset events) whose `changed` says whether the next step has anything to do:

- a department that failed in a way that may pass (its API down) raises `TransientError`: retry with backoff;
- one that must be fixed first (a missing folder, bad credentials) raises `StepFailed`, an `MMIError`: no retry;
- rows that cannot be used never fail a step: the library quarantines them and the run goes on.

`dags/` calls these; nothing here knows about Airflow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from connectors.registry import source
from mmi.config import Settings, load_settings
from schemas.errors import MMIError, NotReadyToTrain, TransientError

CHINA = dt.timezone(dt.timedelta(hours=8))  # the departments' day: the indicators' as-of date by default


class StepFailed(MMIError):
    """A step failed in a way that will not pass by running it again: the message says what to fix."""


def run_ingest(department: str, config: str | Path | None = None) -> dict[str, Any]:
    """Ingest one department (what `mmi ingest --source DEPARTMENT --one-at-a-time` runs); its report as a dict.

    A department the config does not name is reported as `not_configured` (nothing to pull), not as a failure.
    """
    from mmi.ingest import ingest

    source(department)  # ConfigError for a department the registry does not know
    settings = load_settings(config)
    if department not in settings.configured_sources:
        return {"department": department, "not_configured": True, "changed": False}
    [report] = _with_store(settings, lambda engine: ingest(settings, engine, only=department, parallel=False))
    if report.error:  # the library's message names the department and what to do; rows stored before it are kept
        raise (TransientError if report.transient else StepFailed)(report.error)
    return report.as_dict() | {"changed": report.new_versions > 0}


def run_linkage(config: str | Path | None = None, *, full: bool = False) -> dict[str, Any]:
    """Link what changed since the last run into the master index (everything with `full`), as `mmi link` does.

    A first run before every configured department has been ingested does not train (mmi.index.model_versions):
    its summary says why in `not_ready`, and a later ingest's run links."""
    from mmi.index import link_index

    settings = load_settings(config)
    try:
        report = _with_store(settings, lambda engine: link_index(settings, engine, full=full))
    except NotReadyToTrain as waiting:
        return {"not_ready": str(waiting), "changed": False}
    return summarise(report) | {"changed": sum(report.events.values()) > 0}  # events: what publication sends


def run_publication(config: str | Path | None = None) -> dict[str, Any]:
    """Publish the change sets the last linkage left in the outbox to the subscribing departments."""
    from mmi.exchange import publish

    settings = load_settings(config)
    report = _with_store(settings, lambda engine: publish(settings, engine))
    return summarise(report) | {"changed": bool(report.changesets)}


def run_indicators(config: str | Path | None = None, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The day's indicators (as of `as_of`, default today in China time) into the analytics table."""
    from mmi.indicators import snapshot_indicators

    settings = load_settings(config)
    day = as_of or dt.datetime.now(CHINA).date()
    linkage = settings.linkage
    return _with_store(
        settings,
        lambda engine: snapshot_indicators(
            engine, as_of=day, match_threshold=linkage.match_threshold, review_threshold=linkage.review_threshold
        ),
    )


def _with_store(settings: Settings, step: Callable[[Engine], Any]) -> Any:
    from mmi.store.database import open_store
    from mmi.store.faults import store_fault

    engine = open_store(settings.store_url, lock_wait_seconds=settings.store.lock_wait_seconds)
    try:
        return step(engine)
    except Exception as error:
        fault = store_fault(error)  # a lost connection becomes a TransientError, which the DAGs retry
        if fault is None or fault is error:
            raise
        raise fault from None  # not chained: the driver's message carries the rows' values
    finally:
        engine.dispose()


def summarise(result: Any) -> dict[str, Any]:
    """A step's result as JSON values: its `as_dict()`, a dataclass's fields, a dict, or `{"result": ...}`."""
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    elif dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if not isinstance(result, dict):
        result = {"result": result}
    return {str(key): _json_value(value) for key, value in result.items()}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
