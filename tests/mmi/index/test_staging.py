"""The workspace holds only the tables mmi.index.staging declares, after a full and an incremental run."""

from __future__ import annotations

import duckdb

from mmi.index import link_index, staging


def test_every_workspace_table_is_declared(index) -> None:  # type: ignore[no-untyped-def]
    declared = {value for name, value in vars(staging).items() if name.isupper() and isinstance(value, str) and " " not in value}
    settings, engine = index()
    link_index(settings, engine)
    settings, engine = index(delta=True)
    link_index(settings, engine)
    with duckdb.connect(str(settings.linkage.workspace), read_only=True) as duck:
        tables = {
            name for (name,) in duck.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()
        }
    assert {staging.RECORDS, staging.PAIRS, staging.GOLDEN, staging.CHANGED, staging.ASSIGNMENT} <= tables
    undeclared = {name for name in tables - declared if not name.startswith(staging.TERM_FREQUENCIES_PREFIX)}
    assert not undeclared, undeclared
