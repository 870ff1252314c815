"""Airflow DAG `ingest_health`: persons and service events from the health platform's paged HTTP API.

Pulled every four hours from the stored `updated_at` cursor; the client waits out rate limits and retries
5xx answers itself, and when the API stays down the task fails as transient and Airflow retries it with
exponential backoff. Updates the Asset `mmi_source_records_health` when new versions were stored.
"""

from airflow.sdk import CronTriggerTimetable
from mmi_shared import TIMEZONE, ingest_dag

ingest_health = ingest_dag("health", CronTriggerTimetable("20 */4 * * *", timezone=TIMEZONE), __doc__)
