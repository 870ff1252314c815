"""The service-gap worklist: every person an indicator counts who has not been served, longest due first.

A community health centre works from it: who (golden name, sex, birth date, age, phone, address), where (the
registered district), since when the service has been due (the latest date among: the residence start, the
residence threshold passed, the age band entered, and for a service due every N months the last one plus N
months), what is missing, the person's record keys, and for a child the guardian's name and phone where the
guardian's record is linked. Only indicators whose unit is a person have a worklist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, fields

import duckdb
from sqlalchemy import Connection, Engine, select

from mmi.indicators.compute import open_frame, prepare_schedule, unit_query
from mmi.indicators.definitions import Definitions, load_definitions
from mmi.indicators.frame import XREF_RECORD
from mmi.indicators.predicates import since, unmet
from mmi.store.index_tables import master_record, master_xref
from mmi.store.tables import source_record
from schemas.errors import ConfigError


@dataclass(frozen=True)
class WorklistRow:
    master_id: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    age: int | None
    district: str | None
    address: str | None
    phone: str | None
    residence_start: dt.date | None
    unmet: str
    due_since: dt.date | None
    record_keys: str  # the person's records, "department|source_key", space-separated
    guardian_name: str | None
    guardian_phone: str | None
    indicator: str
    definition_version: str


WORKLIST_COLUMNS = tuple(field.name for field in fields(WorklistRow))

_CHILDREN_SQL = """
SELECT w.master_id, any_value(r.guardian_id_number) FROM worklist w JOIN index.member m USING (pid)
JOIN records r USING (record_key) WHERE r.guardian_id_number IS NOT NULL GROUP BY w.master_id
"""


def guardian_contacts(source: Engine | Connection, children: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Each child master → the golden name and phone of the master holding its guardian's ID number (in any of its
    records, or as its golden ID), read from the store: the guardian may live outside the worklist's area."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return guardian_contacts(connection, children)
    holders: dict[str, str] = {}
    ids = sorted(set(children.values()))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        by_record = (
            select(source_record.c.id_number, master_xref.c.master_id)
            .join(master_xref, XREF_RECORD)
            .where(source_record.c.is_current.is_(True), source_record.c.id_number.in_(chunk))
        )
        by_golden = select(master_record.c.id_number, master_record.c.master_id).where(
            master_record.c.status == "active", master_record.c.id_number.in_(chunk)
        )
        for id_number, master in [*source.execute(by_golden), *source.execute(by_record)]:
            holders.setdefault(id_number, master)
    contacts = {}
    wanted = sorted(set(holders.values()))
    for start in range(0, len(wanted), 500):
        query = select(master_record.c.master_id, master_record.c.name, master_record.c.phone).where(
            master_record.c.master_id.in_(wanted[start : start + 500])
        )
        contacts.update({master: (name, phone) for master, name, phone in source.execute(query)})
    return {
        child: contacts[holders[guardian]]
        for child, guardian in children.items()
        if guardian in holders and holders[guardian] != child and holders[guardian] in contacts
    }


def age_at(birth: dt.date | None, as_of: dt.date) -> int | None:
    """Completed years at `as_of`."""
    if birth is None:
        return None
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def compute_worklist(
    source: Engine | Connection,
    *,
    indicator_id: str,
    as_of: dt.date,
    area_prefix: str = "",
    definitions: Definitions | None = None,
) -> list[WorklistRow]:
    """The indicator's unserved persons whose registered (or surveyed) district starts with `area_prefix`."""
    definitions = definitions or load_definitions()
    indicator = definitions.indicator(indicator_id)
    if indicator.unit != "person":
        raise ConfigError(f"indicator {indicator_id} counts {indicator.unit}s, not persons: it has no worklist")
    if area_prefix in ("all",):
        area_prefix = ""
    if not area_prefix.isdigit() and area_prefix:
        raise ConfigError(f"--area {area_prefix!r}: give a district (6 digits), city (4) or province (2) code, or 'all'")
    duck = open_frame(source, groupings=("index",), area_prefix=area_prefix or None)
    try:
        return worklist_in_frame(duck, source, definitions, indicator_id, as_of, area_prefix)
    finally:
        duck.close()


def worklist_in_frame(
    duck: duckdb.DuckDBPyConnection,
    source: Engine | Connection,
    definitions: Definitions,
    indicator_id: str,
    as_of: dt.date,
    area_prefix: str,
) -> list[WorklistRow]:
    """The worklist from a frame already open (mmi.indicators.compute.open_frame), so that several worklists and
    areas can share one; the guardians' contacts are read from the store."""
    rows = _worklist(duck, definitions, indicator_id, as_of, area_prefix)
    children = dict(duck.execute(_CHILDREN_SQL).fetchall())
    guardians = guardian_contacts(source, children)
    return [
        dataclasses.replace(row, guardian_name=guardians[row.master_id][0], guardian_phone=guardians[row.master_id][1])
        if row.master_id in guardians
        else row
        for row in rows
    ]


def _worklist(
    duck: duckdb.DuckDBPyConnection, definitions: Definitions, indicator_id: str, as_of: dt.date, area_prefix: str
) -> list[WorklistRow]:
    indicator = definitions.indicator(indicator_id)
    prepare_schedule(duck, definitions, as_of)
    duck.execute("SET search_path = 'index,main'")
    dates = since(indicator.population, as_of) + since(indicator.served, as_of)
    due = f"greatest({', '.join(dates)})" if dates else "NULL::DATE"
    duck.execute(
        f"""CREATE OR REPLACE TEMP TABLE worklist AS SELECT u.pid, u.master_id, u.area, u.residence_start,
        u.due_since FROM ({unit_query(indicator, as_of, f", CAST({due} AS DATE) AS due_since")}) u
        WHERE NOT u.served AND coalesce(u.area, '') LIKE ? || '%'""",
        [area_prefix],
    )
    rows = duck.execute("""SELECT w.pid, w.master_id, g.name, g.sex, g.birth_date, w.area, g.current_address, g.phone,
        w.residence_start, w.due_since, (SELECT string_agg(m.record_key, ' ' ORDER BY m.record_key) FROM index.member m
        WHERE m.pid = w.pid) FROM worklist w LEFT JOIN golden g ON g.master_id = w.master_id
        ORDER BY w.due_since NULLS LAST, w.master_id""").fetchall()
    missing = unmet(indicator.served, as_of)
    return [
        WorklistRow(
            master,
            name,
            sex,
            birth,
            age_at(birth, as_of),
            area,
            address,
            phone,
            start,
            missing,
            due_since,
            keys or "",
            None,
            None,
            indicator.id,
            definitions.version,
        )
        for _pid, master, name, sex, birth, area, address, phone, start, due_since, keys in rows
    ]
