"""Airflow DAG `publish_change_sets`: publish the master index's changes to the subscribing departments.

Runs after each linkage run (on the Asset `mmi_master_index`), one run at a time: what linkage left in the
outbox becomes each subscriber's change sets, filtered by its data-sharing agreement. Updates the Asset
`mmi_change_sets` when change sets were made.
"""

from typing import Any

from airflow.sdk import dag, task
from mmi_shared import CHANGE_SETS, DAG_ARGS, MASTER_INDEX, announce, config_path


@dag(schedule=MASTER_INDEX, doc_md=__doc__, **DAG_ARGS)
def publish_change_sets() -> None:
    @task(outlets=[CHANGE_SETS])
    def publish(*, outlet_events: Any = None) -> dict[str, Any]:
        from mmi.tasks import run_publication

        return announce(run_publication(config_path()), CHANGE_SETS, outlet_events)

    publish()


publish_change_sets()
