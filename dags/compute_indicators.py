"""Airflow DAG `compute_indicators`: the day's equalization indicators, after each linkage run.

Runs whenever the Asset `mmi_master_index` is updated (a link run that changed the index), one run at a time:
computes every indicator at every level as of the day (China time; or the run conf's `as_of`, YYYY-MM-DD) into
the analytics table `indicator_snapshot`, replacing that day's rows, and updates the Asset `mmi_indicators`.
"""

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task
from mmi_shared import DAG_ARGS, INDICATORS, MASTER_INDEX, announce, config_path


@dag(
    schedule=MASTER_INDEX,
    params={"as_of": Param(None, type=["null", "string"], format="date", description="the date A (default: today, China time)")},
    doc_md=__doc__,
    **DAG_ARGS,
)
def compute_indicators() -> None:
    @task(outlets=[INDICATORS])
    def compute(*, params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from mmi.tasks import run_indicators

        as_of = params.get("as_of") if params else None
        summary = run_indicators(config_path(), as_of=dt.date.fromisoformat(as_of) if as_of else None)
        return announce(summary, INDICATORS, outlet_events)

    compute()


compute_indicators()
