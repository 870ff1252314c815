"""Pull `ga_jzdj` incrementally by its last-update time GXSJ.

The cursor is the newest GXSJ stored. Each run reads every row with GXSJ at or after the cursor minus a
look-back window, in (GXSJ, JZDJBH) order:
- ties: rows sharing the cursor's GXSJ are read again rather than skipped (`>=`, not `>`);
- late updates: an updated row gets a newer GXSJ and is read as a new version of its key;
- late commits: a row committed after we read past its GXSJ is still inside the look-back window.
Rows read again unchanged add nothing (the pipeline compares checksums). Rows with no GXSJ at all could never
be pulled incrementally; they are read on every run and quarantined once, so the department can fix them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, MetaData, String, Table, create_engine, literal, select, type_coerce
from sqlalchemy.exc import NoSuchTableError, OperationalError

from connectors.base import Checkpoint, Delivery, Row, SourceState, Unreadable, payload_json
from connectors.source import setting
from schemas.errors import SourceError, TransientError
from schemas.raw import RawPerson

STREAM = "ga_jzdj"
KEY, CURSOR = "JZDJBH", "GXSJ"
COLUMNS = ("JZDJBH", "XM", "XB", "MZ", "CSRQ", "GMSFHM", "HJDZ_XZQH", "HJDZ", "XZZ_XZQH", "XZZ", "LXDH", "JZKSRQ", "JZZH", "ZXBS", "GXSJ")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
CHECKPOINT_ROWS = 2000


@dataclass(frozen=True)
class PublicSecuritySettings:
    url: str = setting(env="MMI_PUBLIC_SECURITY_URL", kind="url")  # any SQLAlchemy URL of the department's database
    table: str = "ga_jzdj"
    # Rows committed late with an older GXSJ are caught by re-reading this window behind the cursor.
    lookback_seconds: int = 3600


@dataclass(frozen=True)
class GxsjCursor:
    """The newest GXSJ stored (naive, in the source's own clock); the next run reads from `lookback` before it."""

    gxsj: dt.datetime

    def read_from(self, lookback_seconds: int) -> dt.datetime:
        return self.gxsj - dt.timedelta(seconds=lookback_seconds)

    def as_json(self) -> dict[str, Any]:
        return {"gxsj": self.gxsj.isoformat()}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> GxsjCursor:
        return cls(dt.datetime.fromisoformat(value["gxsj"]))


class PublicSecurityConnector:
    department = "public_security"

    def __init__(self, settings: PublicSecuritySettings) -> None:
        if not _IDENTIFIER.match(settings.table):
            raise SourceError(
                self.department, f"table name {settings.table!r} is not a plain SQL identifier; fix sources.public_security.table"
            )
        self.settings = settings

    def deliveries(self, state: SourceState) -> Iterator[Delivery]:
        engine = create_engine(self.settings.url)
        try:
            table, columns = self._reflect(engine)
            stored = state.cursor(STREAM)
            since = GxsjCursor.from_json(stored) if stored and stored.get("gxsj") else None
            with engine.connect().execution_options(stream_results=True, yield_per=CHECKPOINT_ROWS) as connection:
                yield from self._rows_without_gxsj(connection, table, columns)
                yield from self._rows_since(connection, table, columns, since)
        except OperationalError as error:
            raise TransientError(
                f"[public_security] database unreachable: {error.orig}", department=self.department, location=self.settings.table
            ) from error
        finally:
            engine.dispose()

    def _rows_since(self, connection: Any, table: Table, columns: dict[str, Any], since: GxsjCursor | None) -> Iterator[Delivery]:
        query = select(*_as_read(columns)).where(columns[CURSOR].is_not(None)).order_by(columns[CURSOR], columns[KEY])
        if since is not None:
            start = since.read_from(self.settings.lookback_seconds)
            query = query.where(columns[CURSOR] >= _bound(start, connection.dialect.name))
        newest = since.gxsj if since else None
        for count, values in enumerate(connection.execute(query), start=1):
            payload = dict(zip(columns, values, strict=True))
            raw = payload[CURSOR]
            stamp = payload[CURSOR] = _as_datetime(raw)
            location = f"{table.name} GXSJ={raw if stamp is None else stamp} JZDJBH={payload[KEY]}"
            if stamp is None:  # the row cannot be placed in the stream; kept aside (once: quarantine is deduplicated)
                yield Unreadable(
                    STREAM,
                    location,
                    f"GXSJ (last update time) {raw!r} is not a time: the row cannot be pulled incrementally; ask the department to fix it",
                    payload_json(payload | {CURSOR: raw}).encode("utf-8"),
                    source_key=str(payload[KEY]) if payload[KEY] is not None else None,
                )
                continue
            newest = max(newest, stamp) if newest else stamp
            yield self._delivery(payload, location)
            if count % CHECKPOINT_ROWS == 0:
                yield Checkpoint(STREAM, GxsjCursor(newest).as_json())
        if newest is not None:
            yield Checkpoint(STREAM, GxsjCursor(newest).as_json())

    def _rows_without_gxsj(self, connection: Any, table: Table, columns: dict[str, Any]) -> Iterator[Delivery]:
        query = select(*_as_read(columns)).where(columns[CURSOR].is_(None)).order_by(columns[KEY])
        for values in connection.execute(query):
            payload = dict(zip(columns, values, strict=True))
            yield Unreadable(
                STREAM,
                f"{table.name} GXSJ=NULL JZDJBH={payload[KEY]}",
                "GXSJ (last update time) is empty, so the row cannot be pulled incrementally; ask the department to set GXSJ",
                payload_json(payload).encode("utf-8"),
                source_key=payload[KEY],
            )

    def _delivery(self, payload: dict[str, Any], location: str) -> Delivery:
        key = (payload[KEY] or "").strip() if isinstance(payload[KEY], str) else payload[KEY]
        if not key:
            return Unreadable(
                STREAM, location, "JZDJBH (registration number) is empty: the row has no key", payload_json(payload).encode("utf-8")
            )
        return Row(STREAM, "person", str(key), payload, location)

    def _reflect(self, engine: Engine) -> tuple[Table, dict[str, Any]]:
        """The table and its columns by upper-case name (PostgreSQL folds unquoted names to lower case)."""
        schema, _, name = self.settings.table.rpartition(".")
        try:
            table = Table(name, MetaData(), autoload_with=engine, schema=schema or None)
        except NoSuchTableError:
            raise SourceError(
                self.department,
                f"table {self.settings.table!r} not found at {engine.url!r}; check sources.public_security",
                location=self.settings.table,
            ) from None
        by_upper = {column.name.upper(): column for column in table.columns}
        missing = [name for name in COLUMNS if name not in by_upper]
        if missing:
            raise SourceError(self.department, f"table {self.settings.table} lacks columns {', '.join(missing)} (FEEDS.md §1)")
        return table, {name: by_upper[name] for name in COLUMNS}

    def to_raw_person(self, payload: dict[str, Any]) -> RawPerson:
        return RawPerson(
            name=payload["XM"],
            sex=payload["XB"],
            ethnicity=payload["MZ"],
            birth_date=payload["CSRQ"],
            id_number=payload["GMSFHM"],
            hukou_region=payload["HJDZ_XZQH"],
            hukou_address=payload["HJDZ"],
            current_district=payload["XZZ_XZQH"],
            current_address=payload["XZZ"],
            phone=payload["LXDH"],
            residence_start=payload["JZKSRQ"],
            permit_number=payload["JZZH"],
            registration_cancelled=payload["ZXBS"],
            source_updated_at=payload["GXSJ"],
        )


def _as_read(columns: dict[str, Any]) -> list[Any]:
    """The columns to select, GXSJ as the database gives it: SQLite keeps a TIMESTAMP as any text, and
    SQLAlchemy's own conversion would fail the whole read on one row's bad value; `_as_datetime` converts it."""
    return [type_coerce(column, String).label(name) if name == CURSOR else column for name, column in columns.items()]


def _as_datetime(value: Any) -> dt.datetime | None:
    """GXSJ as a naive datetime in the source's own clock (it is only ever compared with itself); None if it is
    not a time (a text column holding anything)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    try:
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return None


def _bound(start: dt.datetime, dialect: str) -> Any:
    """The lower bound as the database compares it. SQLite keeps TIMESTAMP as text ('2016-11-11 16:40:48'), so the
    bound must be text of the same shape: SQLAlchemy's default form adds '.000000', which sorts after the tie."""
    if dialect == "sqlite":
        return literal(start.isoformat(sep=" "), String)
    return start
