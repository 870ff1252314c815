"""What linkage reads from the store: every department's current person records, into DuckDB tables.

Rows stream from the store (SQLite or PostgreSQL) in Arrow batches, so the store's size never has to fit in
Python objects at once. The tables they fill are linkage.inputs' (the linkage input and the golden inputs):
- the linkage input (`person_records`): the canonical columns the model compares, plus derived columns that
  blocking and the comparisons use: each person's ID region and last four characters whether the ID is full or
  masked, the surname and given name, and the first 14 characters of the ID (region + birth date, which survive a
  typo in the rest);
- optionally, the golden inputs: the fields golden records are chosen from, with the source version and the time
  it was last changed, kept apart so that Splink does not carry addresses and employers through every join.

`changed_only` reads just the records whose current version the index has not linked yet (new keys, new
versions): what an incremental run scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Engine, Select, TypeDecorator, and_, or_, select, tuple_
from sqlalchemy.types import TypeEngine

from linkage.inputs import GOLDEN_ONLY_COLUMNS, READ_COLUMNS, RECORDS, create_input_tables, insert_input_batch
from mmi.store.index_tables import master_xref
from mmi.store.tables import source_record
from schemas.errors import LinkageError

BATCH_ROWS = 50_000

_ARROW_TYPES = {
    str: pa.string(),
    bool: pa.bool_(),
    int: pa.int64(),
    float: pa.float64(),
    dt.date: pa.date32(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


def load_person_records(
    engine: Engine,
    duck: duckdb.DuckDBPyConnection,
    table: str = RECORDS,
    *,
    golden_inputs: str | None = None,
    changed_only: bool = False,
    keys: Sequence[str] | None = None,
) -> int:
    """Create `table` (and `golden_inputs`, if named) in `duck` from the store's current person records; returns
    the row count. A full load of an empty store is an error; an incremental one may find nothing. `keys`
    ("department|source_key") loads just those records, as linkage sees them (a steward's explanation)."""
    columns = [
        source_record.c.id.label("record_id"),
        source_record.c.department,
        source_record.c.source_key,
        source_record.c.version,
        *(source_record.c[name] for name in READ_COLUMNS),
    ]
    if golden_inputs:
        columns += [source_record.c[name] for name in GOLDEN_ONLY_COLUMNS]
    query = select(*columns).where(source_record.c.is_current.is_(True)).order_by(source_record.c.id)
    if changed_only:
        # Found on the covering index (is_current, department, source_key, version), then read by id: only the
        # changed rows' full width is read.
        current = source_record.alias("current")
        linked = and_(master_xref.c.department == current.c.department, master_xref.c.source_key == current.c.source_key)
        changed = (
            select(current.c.id)
            .select_from(current.outerjoin(master_xref, linked))
            .where(current.c.is_current.is_(True), or_(master_xref.c.version.is_(None), master_xref.c.version != current.c.version))
        )
        query = query.where(source_record.c.id.in_(changed))
    if keys is not None:
        named = sorted({(key.partition("|")[0], key.partition("|")[2]) for key in keys})
        query = query.where(tuple_(source_record.c.department, source_record.c.source_key).in_(named))
    create_input_tables(duck, table, golden_inputs, arrow_schema(query))
    for batch in arrow_batches(engine, query):
        insert_input_batch(duck, table, golden_inputs, batch)
    [(count,)] = duck.execute(f"SELECT count(*) FROM {table}").fetchall()  # fetched whole: DuckDB 2 wants results finished
    if not count and not changed_only and keys is None:
        raise LinkageError("the store holds no person records yet: run `mmi ingest` first")
    return int(count)


def arrow_schema(query: Select[Any]) -> pa.Schema:
    """The Arrow schema of a store query's rows, declared from its columns' types, not inferred: a batch in which
    a column happens to be all NULL must not make it a NULL-typed column."""
    return pa.schema([(column.name, _ARROW_TYPES[_python_type(column.type)]) for column in query.selected_columns])


def arrow_batches(source: Engine | Connection, query: Select[Any], rows: int | None = None) -> Iterator[pa.Table]:
    """A store query's rows streamed as Arrow tables of `rows` rows, of the columns' declared types (for DuckDB to
    read). Fetched by the driver's own cursor: SQLAlchemy's row objects and result processing cost as much as the
    fetch itself. SQLite's driver gives dates and times as text and booleans as integers; Arrow converts them."""
    schema = arrow_schema(query)
    if isinstance(source, Engine):
        with source.connect() as connection:
            yield from arrow_batches(connection, query, rows)
        return
    rows = rows or BATCH_ROWS
    sql = str(query.compile(dialect=source.dialect, compile_kwargs={"literal_binds": True}))  # literals quoted by the dialect
    driver = source.connection.driver_connection
    # PostgreSQL: a server-side cursor, so a large store arrives batch by batch instead of all at once
    cursor = driver.cursor(name="mmi_arrow_batches") if source.dialect.name == "postgresql" else driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(rows):
            columns = zip(*chunk, strict=True)
            yield pa.Table.from_arrays([_array(values, kind) for values, kind in zip(columns, schema.types, strict=True)], schema=schema)
    finally:
        cursor.close()


def _array(values: tuple[Any, ...], kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # SQLite's text dates and times, integer booleans
        raw = pa.array(values)
        # The store keeps times as naive UTC (mmi.store.tables.UTCDateTime): parsed as such, then marked UTC.
        return raw.cast(pa.timestamp(kind.unit)).cast(kind) if pa.types.is_timestamp(kind) else raw.cast(kind)


def _python_type(column_type: TypeEngine[Any]) -> type:
    base = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    return base.python_type
