"""Airflow DAG `ingest_public_security`: the residence registrations (a table in public security's database).

Pulled every hour by `GXSJ` from the stored cursor, re-reading an hour behind it for rows committed late; a
re-read row changes nothing. Updates the Asset `mmi_source_records_public_security` when new versions were stored.
"""

from airflow.sdk import CronTriggerTimetable
from mmi_shared import TIMEZONE, ingest_dag

ingest_public_security = ingest_dag("public_security", CronTriggerTimetable("10 * * * *", timezone=TIMEZONE), __doc__)
