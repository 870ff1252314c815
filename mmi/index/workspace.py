"""The linkage workspace: a DuckDB file with what the last run linked, so the next one scores only what changed.

Tables:
- `records` and `golden_inputs` (linkage.inputs): the source versions the index last linked;
- `pairs`: every scored pair at or above the review threshold, as in the store's `match_pair`;
- `master_of`: each record's master and linked version, as in the store's `master_xref`;
- `meta`: the run and model version the workspace is in step with.

It is a cache of the store. A run first marks it out of step and only marks it in step again once the store has
committed, so a crash anywhere in between makes the next run a full one, never a wrong incremental one. DuckDB
lets one process write a file at a time, which also keeps two link runs from overlapping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from mmi.errors import LinkageBusy
from mmi.store.index_tables import master_xref, match_pair

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value BIGINT);
    CREATE TABLE IF NOT EXISTS pairs (left_key VARCHAR, right_key VARCHAR, match_probability DOUBLE, match_weight DOUBLE);
    CREATE TABLE IF NOT EXISTS master_of (unique_id VARCHAR, master_id VARCHAR, version BIGINT);
"""


class Workspace:
    def __init__(self, duck: duckdb.DuckDBPyConnection) -> None:
        self.duck = duck
        duck.execute(_SCHEMA)

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[Workspace]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            duck = duckdb.connect(str(path))
        except duckdb.IOException as error:
            raise LinkageBusy(f"the linkage workspace {path} is in use by another process (another `mmi link`?): {error}") from error
        try:
            yield cls(duck)
        finally:
            duck.close()

    def in_step_with(self, run_id: int | None, model_version_id: int) -> bool:
        meta = dict(self.duck.execute("SELECT key, value FROM meta").fetchall())
        has_records = bool(self.duck.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'records'").fetchall()[0][0])
        return has_records and run_id is not None and meta.get("run_id") == run_id and meta.get("model_version_id") == model_version_id

    def mark_out_of_step(self) -> None:
        self.duck.execute("DELETE FROM meta")

    def mark_in_step(self, run_id: int, model_version_id: int) -> None:
        self.duck.execute("DELETE FROM meta")
        self.duck.execute("INSERT INTO meta VALUES ('run_id', ?), ('model_version_id', ?)", [run_id, model_version_id])
        self.duck.execute("CHECKPOINT")

    def load_index_from_store(self, engine: Engine) -> None:
        """Replace `pairs` and `master_of` with the store's own: what a full run diffs against."""
        xref = select(master_xref.c.department + "|" + master_xref.c.source_key, master_xref.c.master_id, master_xref.c.version)
        pairs = select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability, match_pair.c.match_weight)
        for table, query, schema in (
            ("master_of", xref, pa.schema([("unique_id", pa.string()), ("master_id", pa.string()), ("version", pa.int64())])),
            ("pairs", pairs, pa.schema([("left_key", pa.string()), ("right_key", pa.string()),
                                        ("match_probability", pa.float64()), ("match_weight", pa.float64())])),
        ):
            self.duck.execute(f"DELETE FROM {table}")
            with engine.connect() as connection:
                result = connection.execution_options(stream_results=True, yield_per=50_000).execute(query)
                for rows in result.partitions(50_000):
                    batch = pa.Table.from_pylist([dict(zip(schema.names, row, strict=True)) for row in rows], schema=schema)  # noqa: F841
                    self.duck.execute(f"INSERT INTO {table} SELECT * FROM batch")
