"""Opening the store: one engine per URL, the schema brought to the newest migration before use."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from mmi.store.faults import describe
from mmi.store.locks import StepLocked, step_lock
from schemas.errors import StoreError

log = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_LOCK_WAIT = 60.0  # seconds; [store] lock_wait_seconds where the settings are at hand


def create_store_engine(url: str) -> Engine:
    """An engine for the store at `url` (SQLite file or PostgreSQL), with SQLite set up for concurrent readers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        # psycopg prepares a statement server-side after 5 runs, and PostgreSQL may then keep a generic plan made
        # while a table was nearly empty (a sequential scan) as it grows: ingest slowed 2x on key look-ups.
        options["connect_args"] = {"prepare_threshold": None}
    # hide_parameters: an error's message would otherwise render the statement's values (rows of personal data).
    engine = create_engine(url, future=True, hide_parameters=True, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the API read while an ingest writes; NORMAL sync is durable at each checkpoint in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache instead of 2: inserts into indexes keyed by random values (event UUIDs, record keys)
    # touch pages all over a large file, and missed pages made a linkage run's writes 30x slower.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def refresh_statistics(engine: Engine) -> None:
    """Bring the query planner's statistics up to date after a step that changed many rows (an ingest, a link run).
    SQLite has none until ANALYZE runs, and without them it takes `is_current = 1` for a selective condition: an
    area's worklist then read every current record (6.5 s at a million records) instead of the area's (0.5 s).
    PostgreSQL's autovacuum would analyze in time, but it may be off or behind a bulk load (it is off on the
    development machine: the daily link took 480 s on PostgreSQL against 62 s on SQLite); the docs advise ANALYZE
    after a bulk load. Only the store's own tables, by name: a database may hold other schemas.

    Statistics only make the next step faster: the step before is committed, so one that cannot be taken (a lost
    connection, a busy file) is logged, and its step still succeeds."""
    from mmi.store.schema import metadata  # here: the schema module imports every table module, which import this

    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA analysis_limit = 1000")  # a sample per index: milliseconds, not a scan
                connection.exec_driver_sql("ANALYZE")
            elif engine.dialect.name == "postgresql":
                preparer = engine.dialect.identifier_preparer
                connection.exec_driver_sql("ANALYZE " + ", ".join(preparer.quote(name) for name in sorted(metadata.tables)))
    except Exception as failure:  # noqa: BLE001 - see the docstring: speed, not data
        log.warning("planner statistics not refreshed: %s", describe(failure))


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, lock_wait_seconds: float = DEFAULT_LOCK_WAIT) -> None:
    """Bring the store's schema to the newest migration (idempotent). One process migrates at a time: the others
    wait for its lock, then find the schema current (two first runs on an empty store both succeed)."""
    if is_current(engine):
        return
    with step_lock(engine, "migrate", lock_wait_seconds):
        if not is_current(engine):
            command.upgrade(alembic_config(engine), "head")


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def open_store(url: str, *, lock_wait_seconds: float = DEFAULT_LOCK_WAIT) -> Engine:
    """The engine for a store that is ready to use; migrates it first."""
    engine = create_store_engine(url)
    try:
        migrate(engine, lock_wait_seconds)
    except StepLocked:
        raise
    except Exception as error:  # noqa: BLE001 - a store that cannot be opened: its address, or the server (the DAGs retry)
        raise StoreError(f"cannot open the store at {engine.url!r}: {describe(error)}. Check [store] url in the config.") from None
    return engine
