"""Public security's residence registrations (ga_jzdj), written as a SQLite table with the sample's DDL.

One row per registration; a person who moved to another district has two, the old one cancelled (ZXBS '1').
GXSJ is the last update: the registration itself, a permit issued months later, or one of the department's
nightly batch corrections, which stamp many rows with the very same GXSJ (the connector's cursor must cope with
ties). Structural faults, quarantined by a correct pipeline: rows with no GXSJ (they can never be pulled
incrementally) and rows with a number but no name, ID or birth date (nothing to link on).
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from synthetic.context import FeedContext, office_time, random_day, shuffled
from synthetic.ledger import QUARANTINE, RECORD
from synthetic.noise import Noise
from synthetic.places import hukou_address
from synthetic.population import Person

DEPARTMENT, STREAM, TABLE = "public_security", "ga_jzdj", "ga_jzdj"
# The sample's DDL, verbatim: the generated table must be the department's table.
DDL = """CREATE TABLE ga_jzdj (JZDJBH VARCHAR(32) PRIMARY KEY, XM VARCHAR(50), XB CHAR(1), MZ CHAR(2),
        CSRQ CHAR(8), GMSFHM VARCHAR(18), HJDZ_XZQH CHAR(6), HJDZ VARCHAR(200), XZZ_XZQH CHAR(6), XZZ VARCHAR(200),
        LXDH VARCHAR(20), JZKSRQ CHAR(8), JZZH VARCHAR(30), ZXBS CHAR(1), GXSJ TIMESTAMP)"""
COLUMNS = (
    "JZDJBH",
    "XM",
    "XB",
    "MZ",
    "CSRQ",
    "GMSFHM",
    "HJDZ_XZQH",
    "HJDZ",
    "XZZ_XZQH",
    "XZZ",
    "LXDH",
    "JZKSRQ",
    "JZZH",
    "ZXBS",
    "GXSJ",
)
COVERAGE = 0.91  # share of migrants registered with public security
CORRUPTIONS = ("no_update_time", "nothing_to_link")
_GXSJ, _KEY = COLUMNS.index("GXSJ"), 0


@dataclass
class PsRow:
    values: list[str | None]
    person: Person

    @property
    def key(self) -> str:
        return self.values[_KEY] or ""


class RegistrationWriter:
    """Turns people into registration rows; also used by the follow-up delivery for new arrivals."""

    def __init__(self, rng: random.Random, noise: Noise, now: dt.date, next_serial: int = 1) -> None:
        self.rng, self.noise, self.now = rng, noise, now
        self.next_serial = next_serial
        self.batches = _batch_times(rng, now)

    def rows(self, person: Person) -> list[PsRow]:
        """The person's registrations: an old cancelled one if they moved, and the current one."""
        rows = []
        if person.previous:
            old = person.previous
            cancelled = office_time(self.rng, old.end)
            rows.append(self._row(person, old.district, old.address, old.start, "1", cancelled))
        rows.append(self.current_row(person))
        return rows

    def current_row(self, person: Person) -> PsRow:
        """The registration where the person lives now."""
        return self._row(person, person.district, person.address, person.res_start, "0", None)

    def _row(self, person: Person, district: str, address: str, start: dt.date, cancelled: str, update: dt.datetime | None) -> PsRow:
        rng, noise = self.rng, self.noise
        registered = office_time(rng, start)
        permit, updated = self._permit_and_update(district, start, registered)
        key = f"JZ{district}{self.next_serial:08d}"
        self.next_serial += 1
        values: list[str | None] = [
            key,
            noise.name(person.surname, person.given),
            person.sex,
            person.ethnicity,
            noise.birth_date(person.birth).strftime("%Y%m%d"),
            noise.person_id_number(person.id_number, legacy_allowed=True),
            person.hukou,
            hukou_address(person.hukou),
            district,
            address,
            noise.phone(person.phone, person.old_phone),
            start.strftime("%Y%m%d"),
            permit,
            cancelled,
            timestamp(update or updated),
        ]
        return PsRow(values, person)

    def _permit_and_update(self, district: str, start: dt.date, registered: dt.datetime) -> tuple[str | None, dt.datetime]:
        """The permit number (issued at registration, months later, or not yet) and the last update time."""
        rng = self.rng
        roll = rng.random()
        permit = f"{district}{rng.randrange(10**9):09d}"
        if roll < 0.45:
            updated, issued = registered, True
        elif roll < 0.65:
            issue_day = start + dt.timedelta(days=rng.randint(180, 400))
            issued = issue_day < self.now
            updated = office_time(rng, issue_day) if issued else registered
        else:
            updated, issued = registered, False
        later = [batch for batch in self.batches if batch > updated]
        if later and rng.random() < 0.04:
            updated = rng.choice(later)  # a nightly correction run: many rows, one GXSJ
        return (permit if issued else None), updated


def write_public_security(ctx: FeedContext) -> dict[str, int]:
    """Write public_security/ga_jzdj.sqlite; returns counts and the next serial for follow-up deliveries.

    Rows are streamed into a temporary table and copied in GXSJ order (as the department's table grew), so
    the hundreds of thousands of rows are never all held in memory."""
    rng = ctx.rng(DEPARTMENT)
    writer = RegistrationWriter(rng, ctx.noise(DEPARTMENT, rng), ctx.now)
    registered = [person for person in shuffled(rng, ctx.people) if rng.random() < ctx.mix.covered(COVERAGE)]
    total = sum(2 if person.previous else 1 for person in registered)
    corrupt = ctx.corrupt_rows(rng, total, CORRUPTIONS)
    path = ctx.out_dir / DEPARTMENT / f"{TABLE}.sqlite"
    with TableWriter(path, create=True, ordered=True) as table:
        position = 0
        for person in registered:
            for row in writer.rows(person):
                if position in corrupt:
                    corrupt_row(row.values, corrupt[position])
                position += 1
                table.add(row.values)
                record_row(ctx, row)
    return {"rows": total, "corrupt": len(corrupt), "people": len(registered), "next_serial": writer.next_serial}


def corrupt_row(values: list[str | None], kind: str) -> None:
    if kind == "no_update_time":
        values[_GXSJ] = None
    else:  # nothing_to_link: the registration number survived, the person's identity did not
        for column in ("XM", "GMSFHM", "CSRQ"):
            values[COLUMNS.index(column)] = None


def is_good(values: list[str | None]) -> bool:
    """A row a pipeline can pull and link: it has an update time and something that identifies a person."""
    identity = (values[COLUMNS.index(column)] for column in ("XM", "GMSFHM", "CSRQ"))
    return values[_GXSJ] is not None and any(value is not None for value in identity)


def record_row(ctx: FeedContext, row: PsRow) -> None:
    good = is_good(row.values)
    ctx.ledger.delivered(DEPARTMENT, STREAM, row.key, f"{TABLE}:{row.key}", RECORD if good else QUARANTINE)
    if good:
        ctx.ledger.truth(DEPARTMENT, row.key, row.person.key)


class TableWriter:
    """Inserts rows in chunks; with `create`, into a new file with the DDL. With `ordered`, rows go to a temporary
    table first and are copied in GXSJ order on close (rows without GXSJ last). Existing keys are replaced."""

    CHUNK = 10_000

    def __init__(self, path: Path, create: bool, ordered: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if create:
            path.unlink(missing_ok=True)
        self.connection = sqlite3.connect(path)
        self.connection.execute("PRAGMA journal_mode = OFF")  # a generated file: no crash recovery needed
        self.connection.execute("PRAGMA synchronous = OFF")
        if create:
            self.connection.execute(DDL)
        self.target = TABLE
        if ordered:
            self.target = "temp.staging"
            self.connection.execute(f"CREATE TEMP TABLE staging AS SELECT * FROM {TABLE} WHERE 0")
        self.pending: list[list[str | None]] = []

    def add(self, values: list[str | None]) -> None:
        self.pending.append(values)
        if len(self.pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        placeholders = ", ".join("?" * len(COLUMNS))
        self.connection.executemany(f"INSERT OR REPLACE INTO {self.target} VALUES ({placeholders})", self.pending)
        self.pending = []

    def close(self) -> None:
        self._flush()
        if self.target != TABLE:
            self.connection.execute(f"INSERT INTO {TABLE} SELECT * FROM {self.target} ORDER BY GXSJ IS NULL, GXSJ, JZDJBH")
        self.connection.commit()
        self.connection.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_rows(path: Path, keys: list[str]) -> dict[str, list[str | None]]:
    """The current rows for `keys`, by key."""
    connection = sqlite3.connect(path)
    try:
        found: dict[str, list[str | None]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            query = f"SELECT * FROM {TABLE} WHERE JZDJBH IN ({', '.join('?' * len(chunk))})"
            found.update({row[0]: list(row) for row in connection.execute(query, chunk)})
        return found
    finally:
        connection.close()


def _batch_times(rng: random.Random, now: dt.date) -> list[dt.datetime]:
    """The department's nightly correction runs: a few dozen moments, each stamping many rows."""
    first = dt.date(2018, 1, 1)
    days = sorted({random_day(rng, first, now - dt.timedelta(days=1)) for _ in range(40)})
    return [dt.datetime(day.year, day.month, day.day, 23, 30) for day in days]


def timestamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
