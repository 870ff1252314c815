"""Airflow DAG `ingest_human_resources`: the employment records (GB18030 CSV files dropped in a folder daily).

The department drops the day's file overnight and writes its `.ok` marker when done; the DAG looks at 06:30
China time and takes each marked file once, by checksum. Updates the Asset `mmi_source_records_human_resources`
when new versions were stored.
"""

from airflow.sdk import CronTriggerTimetable
from mmi_shared import TIMEZONE, ingest_dag

ingest_human_resources = ingest_dag("human_resources", CronTriggerTimetable("30 6 * * *", timezone=TIMEZONE), __doc__)
