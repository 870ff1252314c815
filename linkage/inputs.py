"""What linkage reads: every department's current person records, from the store into a DuckDB table.

Rows stream from the store (SQLite or PostgreSQL) in Arrow batches, so the store's size never has to fit in
Python objects at once. Beside the canonical columns, the table carries the derived columns that blocking and the
comparisons use: each person's ID region and last four characters whether the ID is full or masked, the surname
and given name, and the first 14 characters of the ID (region + birth date, which survive a typo in the rest).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from mmi.store.tables import source_record

RECORDS = "person_records"
BATCH_ROWS = 50_000

# The canonical columns linkage compares (schemas.canonical.PersonRecord), read from the store.
LINKAGE_COLUMNS = (
    "name", "name_pinyin", "id_number", "id_valid", "masked_id_region", "masked_id_tail", "guardian_id_number",
    "birth_date", "birth_year_month", "sex", "phone", "phone_tail", "hukou_region", "current_district",
)

_ARROW_TYPES = {str: pa.string(), bool: pa.bool_(), int: pa.int64(), dt.date: pa.date32()}

_DERIVED = """
    department || '|' || source_key AS unique_id,
    substr(name, 1, 1) AS surname,
    substr(name, 2) AS given_name,
    coalesce(masked_id_region, substr(id_number, 1, 6)) AS id_region,
    coalesce(masked_id_tail, substr(id_number, 15, 4)) AS id_tail,
    substr(id_number, 1, 14) AS id_region_birth
"""


def load_person_records(engine: Engine, duck: duckdb.DuckDBPyConnection, table: str = RECORDS) -> int:
    """Create `table` in `duck` from the store's current person records; returns the row count."""
    columns = [source_record.c.department, source_record.c.source_key, *(source_record.c[name] for name in LINKAGE_COLUMNS)]
    query = select(*columns).where(source_record.c.is_current.is_(True)).order_by(source_record.c.id)
    names = [column.name for column in columns]
    # Declared, not inferred: a batch in which a column happens to be all NULL must not make it a NULL-typed column.
    schema = pa.schema([(column.name, _ARROW_TYPES[column.type.python_type]) for column in columns])
    duck.execute(f"DROP TABLE IF EXISTS {table}")
    created = False
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
        for rows in result.partitions(BATCH_ROWS):
            batch = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows], schema=schema)  # noqa: F841 - read by DuckDB
            if not created:
                duck.execute(f"CREATE TABLE {table} AS SELECT *, {_DERIVED} FROM batch")
                created = True
            else:
                duck.execute(f"INSERT INTO {table} SELECT *, {_DERIVED} FROM batch")
    if not created:
        raise ValueError("the store holds no person records yet: run `mmi ingest` first")
    [(count,)] = duck.execute(f"SELECT count(*) FROM {table}").fetchall()  # fetched whole: DuckDB 2 wants results finished
    return int(count)
