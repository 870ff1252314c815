"""Airflow DAG `ingest_statistics`: the migrant surveys (Avro files, one per wave, monthly or rarer).

Waves arrive on no fixed day, so the DAG looks every Monday at 07:00 China time (a look that finds no new file
costs a folder listing); trigger it by hand to take a wave at once. Updates the Asset
`mmi_source_records_statistics` when new versions were stored.
"""

from airflow.sdk import CronTriggerTimetable
from mmi_shared import TIMEZONE, ingest_dag

ingest_statistics = ingest_dag("statistics", CronTriggerTimetable("0 7 * * 1", timezone=TIMEZONE), __doc__)
