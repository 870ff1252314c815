"""The linkage workspace: a DuckDB file with what the last run linked, so the next one scores only what changed.

Its tables are declared in mmi.index.staging: the source versions the index last linked, the scored pairs, each
record's master, the golden records, and the run and model version the workspace is in step with.

It is a cache of the store. A run first marks it out of step and only marks it in step again once the store has
committed, so a crash anywhere in between makes the next run a full one, never a wrong incremental one. DuckDB
lets one process write a file at a time, which also keeps two link runs from overlapping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, Select, select

from mmi.index.golden import GOLDEN_FIELDS, GOLDEN_JSON
from mmi.index.staging import PERSISTENT_DDL
from mmi.store.index_tables import master_record, master_xref, match_pair
from mmi.store.reads import arrow_stream
from schemas.errors import LinkageBusy

# DuckDB would take 80% of the machine's memory for its buffers; beyond this it spills to `<workspace>.tmp/`.
MEMORY_LIMIT = "2GB"
# Bumped whenever the workspace's tables (mmi.index.staging) change: a workspace of another format is out of step,
# and rebuilt by a full run.
FORMAT = 3  # 3: records carry id_check_carried (linkage.conflicts)


class Workspace:
    def __init__(self, duck: duckdb.DuckDBPyConnection) -> None:
        self.duck = duck
        duck.execute(PERSISTENT_DDL)

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[Workspace]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            duck = duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT})
        except duckdb.IOException as error:
            raise LinkageBusy(f"the linkage workspace {path} is in use by another process (another `mmi link`?): {error}") from error
        try:
            yield cls(duck)
        finally:
            duck.close()

    def in_step_with(self, run_id: int | None, model_version_id: int) -> bool:
        meta = dict(self.duck.execute("SELECT key, value FROM meta").fetchall())
        has_records = bool(
            self.duck.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'records'").fetchall()[0][0]
        )
        expected = {"format": FORMAT, "run_id": run_id, "model_version_id": model_version_id}
        return has_records and run_id is not None and all(meta.get(key) == value for key, value in expected.items())

    def mark_out_of_step(self) -> None:
        self.duck.execute("DELETE FROM meta")

    def mark_in_step(self, run_id: int, model_version_id: int) -> None:
        self.duck.execute("DELETE FROM meta")
        self.duck.execute(
            "INSERT INTO meta VALUES ('format', ?), ('run_id', ?), ('model_version_id', ?)", [FORMAT, run_id, model_version_id]
        )
        self.duck.execute("CHECKPOINT")

    def load_index_from_store(self, engine: Engine) -> None:
        """Replace `pairs`, `master_of` and `golden` with the store's own: what a full run diffs against."""
        xref = select(
            (master_xref.c.department + "|" + master_xref.c.source_key).label("unique_id"), master_xref.c.master_id, master_xref.c.version
        )
        pairs = select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability, match_pair.c.match_weight)
        masters = select(
            master_record.c.master_id,
            master_record.c.record_count,
            master_record.c.lineage,
            *(master_record.c[name] for name in GOLDEN_FIELDS),
        ).where(master_record.c.status == "active")
        _copy_query(engine, self.duck, xref, "master_of")
        _copy_query(engine, self.duck, pairs, "pairs")
        _copy_query(engine, self.duck, masters, "stored_golden", create=True)
        self.duck.execute(f"""DELETE FROM golden;
            INSERT INTO golden SELECT master_id, record_count, {GOLDEN_JSON}, lineage, {", ".join(GOLDEN_FIELDS)} FROM stored_golden;
            DROP TABLE stored_golden""")


def _copy_query(engine: Engine, duck: duckdb.DuckDBPyConnection, query: Select[Any], table: str, *, create: bool = False) -> None:
    """The rows of a store query into a DuckDB table (emptied first, or created to match the query)."""
    rows = arrow_stream(engine, query)  # noqa: F841 - read by DuckDB
    if create:
        duck.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM rows")
    else:
        duck.execute(f"DELETE FROM {table}; INSERT INTO {table} SELECT * FROM rows")
