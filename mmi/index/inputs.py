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

from collections.abc import Sequence

import duckdb
from sqlalchemy import Engine, and_, or_, select, tuple_

from linkage.inputs import GOLDEN_ONLY_COLUMNS, READ_COLUMNS, RECORDS, create_input_tables
from mmi.store.index_tables import master_xref
from mmi.store.reads import arrow_stream
from mmi.store.tables import source_record
from schemas.errors import LinkageError


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
    create_input_tables(duck, table, golden_inputs, arrow_stream(engine, query))
    [(count,)] = duck.execute(f"SELECT count(*) FROM {table}").fetchall()  # fetched whole: DuckDB 2 wants results finished
    if not count and not changed_only and keys is None:
        raise LinkageError("the store holds no person records yet: run `mmi ingest` first")
    return int(count)
