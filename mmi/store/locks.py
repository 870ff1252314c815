"""Steps that exclude each other: a lock per step (the migration, each department's ingest, link, publish) that
works across processes and machines, held by the database itself, so a process that dies lets go of it.

- PostgreSQL: a session-level advisory lock, on a connection of its own held for the whole step. The key is
  derived in SQL from the database, the schema and the step's name (two stores in one database never collide).
  The holder names itself in its connection's `application_name` ("mmi STEP PID@HOST SINCE"), so a waiting run
  reads who holds the lock from `pg_locks` and `pg_stat_activity`: the answer cannot be stale, since the database
  drops the lock and the row together when the holder's connection ends.
- SQLite: an open write transaction (`BEGIN IMMEDIATE`) on a side database file per step, next to the store
  (`<store>.locks/<step>.lock`). Not a row of the store: a transaction held on the store itself would stop every
  other writer (and the step's own writes on other connections), and a claimed row outlives a killed process
  until a heartbeat says otherwise; SQLite's file lock is released by the operating system the moment its
  process dies. Who holds it is written beside it (`<step>.holder`) once taken, and read only while it is held.
  A SQLite store lives on one machine, so "across machines" is PostgreSQL's part.

A second run waits up to `[store] lock_wait_seconds`, then raises `StepLocked` (a TransientError: exit 1, and
Airflow retries) naming the step and its holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from schemas.errors import TransientError

POLL_SECONDS = 0.2
_NAME = 63  # PostgreSQL keeps the first 63 bytes of an application_name

# The key: the same on every machine, for the same store and step.
_KEY = "hashtextextended(current_database() || '/' || current_schema() || '/' || :step, 0)"


class StepLocked(TransientError):
    """Another run holds the step's lock: this one may run once that one has finished."""


@dataclass(frozen=True)
class Holder:
    step: str
    host: str
    pid: int
    since: dt.datetime

    def describe(self) -> str:
        return f"{self.host} pid {self.pid}, since {self.since.isoformat(timespec='seconds')}"

    @classmethod
    def me(cls, step: str) -> Holder:
        return cls(step, socket.gethostname(), os.getpid(), dt.datetime.now(dt.UTC).replace(microsecond=0))


@contextlib.contextmanager
def step_lock(engine: Engine, step: str, wait_seconds: float) -> Iterator[Holder]:
    """Hold `step`'s lock for the block; wait up to `wait_seconds` for it, then raise StepLocked."""
    backend = engine.url.get_backend_name()
    database = engine.url.database
    if backend == "postgresql":
        lock = _postgres_lock
    elif backend == "sqlite" and database and database != ":memory:":
        lock = _sqlite_lock
    else:  # an in-memory store is one process's own: nothing to exclude
        yield Holder.me(step)
        return
    with lock(engine, step, wait_seconds) as holder:
        yield holder


def _deadline_passed(started: float, wait_seconds: float) -> bool:
    if time.monotonic() - started >= wait_seconds:
        return True
    time.sleep(POLL_SECONDS)
    return False


def _busy(step: str, wait_seconds: float, holder: Holder | None) -> StepLocked:
    who = holder.describe() if holder else "a process that has not said who it is yet"
    return StepLocked(
        f"step '{step}' is running elsewhere ({who}); waited {wait_seconds:g} s ([store] lock_wait_seconds): run it again later"
    )


@contextlib.contextmanager
def _postgres_lock(engine: Engine, step: str, wait_seconds: float) -> Iterator[Holder]:
    me = Holder.me(step)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        started = time.monotonic()
        while not connection.execute(text(f"SELECT pg_try_advisory_lock({_KEY})"), {"step": step}).scalar_one():
            if _deadline_passed(started, wait_seconds):
                raise _busy(step, wait_seconds, _postgres_holder(connection, step))
        connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": _application_name(me)})
        try:
            yield me
        finally:
            _release_postgres(connection, step)
    finally:
        connection.close()


def _release_postgres(connection: Connection, step: str) -> None:
    # A connection the server dropped has already released its lock; then this fails and changes nothing.
    with contextlib.suppress(Exception):
        connection.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"step": step})
        connection.execute(text("RESET application_name"))


def _application_name(holder: Holder) -> str:
    since = holder.since.strftime("%Y%m%dT%H%M%SZ")
    fixed = f"mmi {holder.step} {holder.pid}@ {since}"
    host = holder.host[: max(1, _NAME - len(fixed.encode()))]
    return f"mmi {holder.step} {holder.pid}@{host} {since}"


_APPLICATION = re.compile(r"^mmi (?P<step>\S+) (?P<pid>\d+)@(?P<host>\S+) (?P<since>\d{8}T\d{6}Z)$")


def _postgres_holder(connection: Connection, step: str) -> Holder | None:
    name = connection.execute(
        text(f"""SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (
                       SELECT oid FROM pg_database WHERE datname = current_database())
                   AND ((l.classid::bigint << 32) | l.objid::bigint) = {_KEY}"""),
        {"step": step},
    ).scalar()
    match = _APPLICATION.match(name or "")
    if not match:
        return None
    since = dt.datetime.strptime(match["since"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return Holder(match["step"], match["host"], int(match["pid"]), since)


@contextlib.contextmanager
def _sqlite_lock(engine: Engine, step: str, wait_seconds: float) -> Iterator[Holder]:
    folder = Path(str(engine.url.database)).with_name(f"{Path(str(engine.url.database)).name}.locks")
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", step)
    lock_file, holder_file = folder / f"{name}.lock", folder / f"{name}.holder"
    connection = sqlite3.connect(lock_file, timeout=0, isolation_level=None)
    try:
        started = time.monotonic()
        while not _try_begin(connection):
            if _deadline_passed(started, wait_seconds):
                raise _busy(step, wait_seconds, _sqlite_holder(holder_file))
        me = Holder.me(step)
        temporary = holder_file.with_suffix(f".{me.pid}.tmp")
        temporary.write_text(json.dumps({"step": step, "host": me.host, "pid": me.pid, "since": me.since.isoformat()}))
        os.replace(temporary, holder_file)
        try:
            yield me
        finally:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
    finally:
        connection.close()


def _try_begin(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return False
        raise
    return True


def _sqlite_holder(path: Path) -> Holder | None:
    try:
        fields = json.loads(path.read_text())
        return Holder(fields["step"], fields["host"], int(fields["pid"]), dt.datetime.fromisoformat(fields["since"]))
    except (OSError, ValueError, KeyError):
        return None
