"""The service-gap worklist: every person an indicator counts who has not been served, longest due first.

A community health centre works from it: who (golden name, sex, birth date, age, phone, address), where (the
registered district), since when the service has been due (the latest date among: the residence start, the
residence threshold passed, the age band entered, and for a service due every N months the last one plus N
months), what is missing, the person's record keys, and for a child the guardian's name and phone where the
guardian's record is linked. Only indicators whose unit is a person have a worklist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import duckdb
from sqlalchemy import Connection, Engine

from mmi.indicators.compute import open_frame, prepare_schedule, unit_query
from mmi.indicators.definitions import Definitions, load_definitions
from mmi.indicators.predicates import since, unmet
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

_GUARDIANS_SQL = """
WITH children AS (
  SELECT m.pid, any_value(r.guardian_id_number) AS guardian_id FROM records r JOIN index.member m USING (record_key)
  WHERE r.guardian_id_number IS NOT NULL AND m.pid IN (SELECT pid FROM worklist) GROUP BY m.pid),
known AS (  -- whose ID number a master holds: in any of its records, or as its golden ID
  SELECT r.id_number, x.master_id FROM records r JOIN xref x USING (record_key)
  WHERE r.id_number IN (SELECT guardian_id FROM children)
  UNION SELECT id_number, master_id FROM golden WHERE id_number IN (SELECT guardian_id FROM children))
SELECT c.pid, min(g.name), min(g.phone) FROM children c JOIN known k ON k.id_number = c.guardian_id
JOIN golden g ON g.master_id = k.master_id WHERE k.master_id <> c.pid GROUP BY c.pid
"""


def age_at(birth: dt.date | None, as_of: dt.date) -> int | None:
    """Completed years at `as_of`."""
    if birth is None:
        return None
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def compute_worklist(
    source: Engine | Connection, *, indicator_id: str, as_of: dt.date, area_prefix: str = "",
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
    duck = open_frame(source, groupings=("index",))
    try:
        return _worklist(duck, definitions, indicator_id, as_of, area_prefix)
    finally:
        duck.close()


def _worklist(duck: duckdb.DuckDBPyConnection, definitions: Definitions, indicator_id: str, as_of: dt.date,
              area_prefix: str) -> list[WorklistRow]:
    indicator = definitions.indicator(indicator_id)
    prepare_schedule(duck, definitions, as_of)
    duck.execute("SET search_path = 'index,main'")
    dates = since(indicator.population, as_of) + since(indicator.served, as_of)
    due = f"greatest({', '.join(dates)})" if dates else "NULL::DATE"
    duck.execute(f"""CREATE OR REPLACE TEMP TABLE worklist AS SELECT u.pid, u.master_id, u.area, u.residence_start,
        u.due_since FROM ({unit_query(indicator, as_of, f", CAST({due} AS DATE) AS due_since")}) u
        WHERE NOT u.served AND coalesce(u.area, '') LIKE ? || '%'""", [area_prefix])
    guardians = {pid: (name, phone) for pid, name, phone in duck.execute(_GUARDIANS_SQL).fetchall()}
    rows = duck.execute("""SELECT w.pid, w.master_id, g.name, g.sex, g.birth_date, w.area, g.current_address, g.phone,
        w.residence_start, w.due_since, (SELECT string_agg(m.record_key, ' ' ORDER BY m.record_key) FROM index.member m
        WHERE m.pid = w.pid) FROM worklist w LEFT JOIN golden g ON g.master_id = w.master_id
        ORDER BY w.due_since NULLS LAST, w.master_id""").fetchall()
    missing = unmet(indicator.served, as_of)
    return [
        WorklistRow(master, name, sex, birth, age_at(birth, as_of), area, address, phone, start, missing, due_since,
                    keys or "", *guardians.get(pid, (None, None)), indicator.id, definitions.version)
        for pid, master, name, sex, birth, area, address, phone, start, due_since, keys in rows
    ]
