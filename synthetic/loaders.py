"""Put public security's table into another database (PostgreSQL in production), as the department serves it.

The table is created with the sample's DDL (unquoted names: PostgreSQL folds them to lower case, as it would
for the department's own table) and filled in chunks through SQLAlchemy, so any URL it speaks works.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from synthetic.public_security import COLUMNS, DDL, TABLE

CHUNK = 5000


def load_public_security(sqlite_path: Path, target_url: str, table: str = TABLE) -> int:
    """Copy the generated ga_jzdj table into `target_url` (dropped and recreated); returns the rows copied."""
    engine = create_engine(target_url)
    insert = text(f"INSERT INTO {table} VALUES ({', '.join(':' + c for c in COLUMNS)})")
    copied = 0
    source = sqlite3.connect(sqlite_path)
    try:
        with engine.begin() as target:
            _recreate(target, table)
            timestamps = target.dialect.name != "sqlite"  # SQLite keeps GXSJ as the text it was given
            cursor = source.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY JZDJBH")
            while chunk := cursor.fetchmany(CHUNK):
                target.execute(insert, [_parameters(row, timestamps) for row in chunk])
                copied += len(chunk)
    finally:
        source.close()
        engine.dispose()
    return copied


def load_sample_sql(sql_path: Path, target_url: str, table: str = TABLE) -> int:
    """Run the sample's .sql (statements separated by ';\\n') against `target_url`, after dropping the table;
    returns the statements run. With `table`, the sample's table is created under that name instead."""
    script = Path(sql_path).read_text(encoding="utf-8")
    statements = [s.strip() for s in script.split(";\n") if s.strip()]
    engine = create_engine(target_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            for statement in statements:
                statement = statement.rstrip(";")
                for verb in ("CREATE TABLE", "INSERT INTO"):
                    statement = statement.replace(f"{verb} {TABLE} ", f"{verb} {table} ", 1)
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
    return len(statements)


def _recreate(connection: Connection, table: str) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    connection.exec_driver_sql(DDL.replace(f"CREATE TABLE {TABLE} ", f"CREATE TABLE {table} ", 1))


def _parameters(row: tuple[Any, ...], timestamps: bool) -> dict[str, Any]:
    values = dict(zip(COLUMNS, row, strict=True))
    if timestamps and values["GXSJ"] is not None:
        values["GXSJ"] = dt.datetime.strptime(values["GXSJ"], "%Y-%m-%d %H:%M:%S")
    return values
