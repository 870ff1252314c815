"""What a database failure means, decided in one place: transient (retry later) or terminal, and said safely.

A connection lost mid-step (the server restarting, a backend terminated, a network cut) and SQLite's "database is
locked" may pass: they become `TransientError` (exit 1, Airflow retries). Every other driver error is terminal
(`StoreError`, exit 2). Either way the message is built from the error's kind, SQL state and the names of the
constraint, table and column, never from the driver's text as a whole: PostgreSQL's DETAIL line and
SQLAlchemy's rendering of a failed statement carry the rows' values (names, ID numbers, addresses).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, PendingRollbackError

from schemas.errors import MMIError, StoreError, TransientError

# PostgreSQL SQL state classes that may pass: connection exception, insufficient resources, operator intervention
# (a terminated backend, a server shutting down), transaction rollback (serialization failure, deadlock).
_TRANSIENT_CLASSES = ("08", "53", "57", "40")


def store_fault(error: BaseException) -> MMIError | None:
    """The project's error for a failure of the store's database, or None when `error` is not one."""
    if isinstance(error, MMIError):
        return error
    if isinstance(error, PendingRollbackError):  # the connection went away inside a transaction
        return TransientError(f"the store's connection was lost mid-transaction ({type(error).__name__}): run the step again")
    if isinstance(error, DBAPIError):
        return _classified(error.orig, invalidated=error.connection_invalidated)
    if isinstance(error, sqlite3.Error) or _is_psycopg(error):
        return _classified(error, invalidated=False)
    return None


def describe(error: BaseException) -> str:
    """A one-line account of `error` safe to print, log or store: for a database error no value it carried."""
    fault = store_fault(error)
    if fault is not None:
        return str(fault)
    return f"{type(error).__name__}: {error}"


def _classified(orig: BaseException | None, *, invalidated: bool) -> MMIError:
    state = _sqlstate(orig)
    what = _safe_text(orig)
    transient = (
        invalidated
        or (state is not None and state[:2] in _TRANSIENT_CLASSES)
        or (isinstance(orig, sqlite3.OperationalError) and ("locked" in what or "busy" in what or "disk I/O" in what))
        or (state is None and _is_psycopg(orig) and type(orig).__name__ == "OperationalError")
    )
    if transient:
        return TransientError(f"the store's database failed in a way that may pass ({what}): run the step again")
    return StoreError(f"the store's database refused the operation ({what})")


def _sqlstate(orig: BaseException | None) -> str | None:
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _safe_text(orig: BaseException | None) -> str:
    """The error's kind and what names the failing object: values never."""
    if orig is None:
        return "no driver error"
    kind = type(orig).__name__
    if isinstance(orig, sqlite3.Error):
        # SQLite's messages name columns and constraints ("UNIQUE constraint failed: t.a"), not values.
        return f"{kind}: {str(orig).splitlines()[0] if str(orig) else ''}"
    diag = getattr(orig, "diag", None)
    parts = [kind]
    state = _sqlstate(orig)
    if state:
        parts.append(f"SQL state {state}")
    for label in ("constraint_name", "table_name", "column_name"):
        if diag is not None and (value := getattr(diag, label, None)):
            parts.append(f"{label.split('_')[0]} {value}")
    if state is None or state[:2] in _TRANSIENT_CLASSES:
        # Connection failures carry no row: their first line says what happened ("terminating connection ...").
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        if first:
            parts.append(first)
    return ", ".join(parts)


def _is_psycopg(error: BaseException | None) -> bool:
    return error is not None and type(error).__module__.startswith("psycopg")
