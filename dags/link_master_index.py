"""Airflow DAG `link_master_index`: link new and changed source records into the master migrant index.

Runs whenever any department's source records Asset is updated (an ingest that stored something new), one run
at a time: an incremental run links only what changed against the index; trigger with `{"full": true}` to
re-link everyone. Updates the Asset `mmi_master_index`, which starts publication, when the run changed the index
(its events are what publication sends). The task goes to its own queue (`MMI_LINKAGE_QUEUE`, default `linkage`).
"""

from typing import Any

from airflow.sdk import Param, dag, task
from mmi_shared import DAG_ARGS, LINKAGE_QUEUE, MASTER_INDEX, SOURCE_RECORDS, announce, config_path


@dag(
    schedule=(
        SOURCE_RECORDS["public_security"] | SOURCE_RECORDS["human_resources"] | SOURCE_RECORDS["statistics"] | SOURCE_RECORDS["health"]
    ),
    params={"full": Param(False, type="boolean", description="re-link every record, not only what changed")},
    doc_md=__doc__,
    **DAG_ARGS,
)
def link_master_index() -> None:
    @task(outlets=[MASTER_INDEX], queue=LINKAGE_QUEUE)
    def link(*, params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from mmi.tasks import run_linkage

        summary = run_linkage(config_path(), full=bool(params and params.get("full")))
        return announce(summary, MASTER_INDEX, outlet_events)

    link()


link_master_index()
