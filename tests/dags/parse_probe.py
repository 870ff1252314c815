"""Parse a DAG folder the way Airflow does, recording every database connection, engine or socket it opens.

    python -m tests.dags.parse_probe DAG_FOLDER   → a last line RESULT_PREFIX + JSON: dag_ids, import_errors, opened

Run in a fresh interpreter (a subprocess), so that no module is imported already and every import a DAG file
makes happens under the probes. Airflow itself is imported first, unprobed: its own set-up is not the DAG files'
doing. The probes record and let the call go on, so a leak shows up as a record, not as an import error.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT_PREFIX = "parse-probe: "  # Airflow logs to stdout too: the result is the line that starts with this


def probe(owner: Any, name: str, label: str, opened: list[dict[str, str]]) -> None:
    """Replace `owner.name` by a wrapper that records the call (with the DAG-folder frame that made it)."""
    original: Callable[..., Any] = getattr(owner, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        opened.append({"what": label, "where": _caller()})
        return original(*args, **kwargs)

    setattr(owner, name, recorded)


def _caller() -> str:
    """The innermost frame outside installed packages and this file: the code that asked for the connection."""
    frames = [frame for frame in traceback.extract_stack() if "site-packages" not in frame.filename and frame.filename != __file__]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def install_probes(opened: list[dict[str, str]]) -> None:
    import psycopg
    import sqlalchemy
    import sqlalchemy.engine
    import sqlalchemy.engine.create
    from sqlalchemy.engine.default import DefaultDialect

    probe(socket.socket, "connect", "socket.connect", opened)
    probe(socket.socket, "connect_ex", "socket.connect_ex", opened)
    probe(socket, "create_connection", "socket.create_connection", opened)
    probe(sqlite3, "connect", "sqlite3.connect", opened)
    probe(sqlite3.dbapi2, "connect", "sqlite3.dbapi2.connect", opened)
    probe(psycopg, "connect", "psycopg.connect", opened)
    probe(psycopg.Connection, "connect", "psycopg.Connection.connect", opened)
    for module in (sqlalchemy, sqlalchemy.engine, sqlalchemy.engine.create):
        probe(module, "create_engine", "sqlalchemy.create_engine", opened)
    probe(DefaultDialect, "connect", "sqlalchemy dialect connect", opened)


def parse(folder: Path) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import BundleDagBag  # Airflow's own import and set-up, before the probes

    opened: list[dict[str, str]] = []
    install_probes(opened)
    bag = BundleDagBag(folder, bundle_path=folder, bundle_name="dags-folder")
    return {"dag_ids": sorted(bag.dag_ids), "import_errors": bag.import_errors, "opened": opened}


if __name__ == "__main__":
    print(RESULT_PREFIX + json.dumps(parse(Path(sys.argv[1]).resolve())))
