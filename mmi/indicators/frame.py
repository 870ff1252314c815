"""The indicator frame: the store's current records, services and index, in DuckDB, grouped into persons.

Indicators count persons, and who is one person is what linkage decided. The frame therefore reads the records
once (`load_store`) and then groups them by a *grouping* (record key → person): the index as it stands (`index`,
each master one person), the index with the review band's links added (`review`: masters joined by a scored pair
between the review and the match threshold), and only the most certain links (`certain`: each master split into
the parts joined by pairs at or above a stricter threshold). Computing the same definitions under the three is
the rates' sensitivity to linkage. A grouping's persons take the golden birth date and sex of their master (for
`review`, of the master with the most records in the group).

Each grouping lives in its own DuckDB schema with the tables the predicates read: `persons` (one row per person:
registration, area, birth date, sex, survey, health record, departments linked), `services` and `reports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Engine, Select, false, select

from connectors.registry import DEPARTMENTS
from mmi.store.index_tables import master_record, master_xref, match_pair
from mmi.store.reads import arrow_stream
from mmi.store.tables import service_event, source_record

GROUPINGS = ("index", "review", "certain")
CERTAIN_THRESHOLD = 0.999999  # "the most certain links": a match weight of about 20 and more
GOLDEN_COLUMNS = ("master_id", "record_count", "birth_date", "sex", "name", "phone", "current_address", "id_number")

_RECORD = source_record.c
XREF_RECORD = (_RECORD.department == master_xref.c.department) & (_RECORD.source_key == master_xref.c.source_key)  # the record a key names
_PERSONS_SQL = """
CREATE OR REPLACE TABLE {g}.persons AS
WITH grouped AS (
  SELECT m.pid,
    bool_or(r.department = 'public_security' AND NOT coalesce(r.registration_cancelled, FALSE)) AS registered,
    arg_max(r.current_district, r.residence_start) FILTER (WHERE r.department = 'public_security' AND NOT coalesce(r.registration_cancelled, FALSE)) AS district,
    max(r.residence_start) FILTER (WHERE r.department = 'public_security' AND NOT coalesce(r.registration_cancelled, FALSE)) AS residence_start,
    bool_or(r.department = 'statistics') AS surveyed,
    arg_max(r.current_district, r.survey_wave) FILTER (WHERE r.department = 'statistics') AS survey_district,
    min(r.health_record_date) FILTER (WHERE r.department = 'health') AS health_record_date,
    {has_department}
  FROM records r JOIN {g}.member m USING (record_key) GROUP BY m.pid)
SELECT grouped.*, g.birth_date, g.sex, o.master_id
FROM grouped JOIN {g}.owner o USING (pid) LEFT JOIN golden g ON g.master_id = o.master_id
"""
_SERVICES_SQL = """
CREATE OR REPLACE TABLE {g}.services AS
SELECT m.pid, s.service_type, s.service_date, s.vaccine, s.dose FROM services s JOIN {g}.member m ON m.record_key = s.person_record;
CREATE OR REPLACE TABLE {g}.reports AS
SELECT s.source_key AS report_key, m.pid, s.diagnosis_date, s.report_date
FROM services s JOIN {g}.member m ON m.record_key = s.person_record WHERE s.service_type = 'INFECTIOUS_DISEASE_REPORT';
"""


def load_store(source: Engine | Connection, duck: duckdb.DuckDBPyConnection, area_prefix: str | None = None) -> None:
    """Copy what the indicators read from the store into `duck`: records, services, golden records, xref, pairs.

    With `area_prefix` (a worklist's area) only the masters with a current registration or survey record in the
    area are read, and no pairs: every person the area's worklist can list, and nobody else, so a worklist costs
    what its area holds rather than what the whole store holds."""
    xref_c = master_xref.c
    records = select(
        (_RECORD.department + "|" + _RECORD.source_key).label("record_key"),
        _RECORD.department,
        _RECORD.current_district,
        _RECORD.residence_start,
        _RECORD.registration_cancelled,
        _RECORD.health_record_date,
        _RECORD.survey_wave,
        _RECORD.id_number,
        _RECORD.guardian_id_number,
    ).where(_RECORD.is_current.is_(True))
    event = service_event.c
    services = select(
        event.source_key, ("health|" + event.person_key).label("person_record"), event.service_type, event.service_date, event.detail
    ).where(event.is_current.is_(True), event.department == "health")
    golden = select(*(master_record.c[name] for name in GOLDEN_COLUMNS)).where(master_record.c.status == "active")
    xref = select((xref_c.department + "|" + xref_c.source_key).label("record_key"), xref_c.master_id)
    pairs = select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability)
    if area_prefix is not None:
        masters = area_masters(area_prefix)
        # Each read starts from the area's masters (xref by master, then each record or service by its key), so
        # that it costs what the area holds; SQLite finds that order once it has statistics (refresh_statistics).
        records = records.select_from(master_xref.join(source_record, XREF_RECORD)).where(xref_c.master_id.in_(masters))
        services = services.select_from(master_xref.join(service_event, event.person_key == xref_c.source_key)).where(
            xref_c.department == "health", xref_c.master_id.in_(masters)
        )
        golden = golden.where(master_record.c.master_id.in_(masters))
        xref = xref.where(xref_c.master_id.in_(masters))
        pairs = pairs.where(false())
    for table, query in (("records", records), ("raw_services", services), ("golden", golden), ("xref", xref), ("pairs", pairs)):
        copy_query(source, duck, query, table)
    duck.execute("""CREATE OR REPLACE TABLE services AS SELECT source_key, person_record, service_type, service_date,
        json_extract_string(detail, '$.vaccine') AS vaccine, TRY_CAST(json_extract_string(detail, '$.dose') AS INTEGER) AS dose,
        coalesce(TRY_CAST(json_extract_string(detail, '$.diagnosis_date') AS DATE), service_date) AS diagnosis_date,
        TRY_CAST(json_extract_string(detail, '$.report_date') AS DATE) AS report_date FROM raw_services;
        DROP TABLE raw_services""")


def area_masters(area_prefix: str) -> Select[Any]:
    """The masters with a current registration or survey record whose district starts with `area_prefix`. A range,
    not LIKE: both stores then read the area through ix_source_record_area."""
    return (
        select(master_xref.c.master_id)
        .join(source_record, XREF_RECORD)
        .where(
            _RECORD.department.in_(("public_security", "statistics")),
            _RECORD.is_current.is_(True),
            _RECORD.current_district >= area_prefix,
            _RECORD.current_district < prefix_end(area_prefix),
        )
    )


def prefix_end(prefix: str) -> str:
    """The least string after every string that starts with `prefix` ("4403" → "4404"; "" has none: "\uffff")."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\uffff"


def build_groupings(
    duck: duckdb.DuckDBPyConnection,
    match_threshold: float,
    review_threshold: float,
    certain_threshold: float = CERTAIN_THRESHOLD,
    groupings: Iterable[str] = GROUPINGS,
) -> None:
    """Create each grouping's schema: `member` (record → person), `owner` (person → master), persons, services."""
    for grouping in groupings:
        duck.execute(f"CREATE SCHEMA IF NOT EXISTS {grouping}")
        if grouping == "index":  # each master is one person: nothing to compute outside DuckDB
            duck.execute("CREATE OR REPLACE TABLE index.member AS SELECT record_key, master_id AS pid FROM xref")
            duck.execute("CREATE OR REPLACE TABLE index.owner AS SELECT DISTINCT master_id AS pid, master_id FROM xref")
        else:
            members, owners = _GROUPERS[grouping](duck, match_threshold, review_threshold, certain_threshold)
            _table(duck, f"{grouping}.member", ("record_key", "pid"), members)
            _table(duck, f"{grouping}.owner", ("pid", "master_id"), owners)
        has = ",\n    ".join(f"bool_or(r.department = '{d}') AS has_{d}" for d in DEPARTMENTS)
        duck.execute(_PERSONS_SQL.format(g=grouping, has_department=has))
        duck.execute(_SERVICES_SQL.format(g=grouping))


def _review(duck: duckdb.DuckDBPyConnection, match: float, review: float, _certain: float) -> tuple[Any, Any]:
    """Masters joined by every review-band pair; each group is named by, and takes the golden record of, its
    largest master."""
    links = duck.execute(
        """SELECT a.master_id, b.master_id FROM pairs p JOIN xref a ON a.record_key = p.left_key
        JOIN xref b ON b.record_key = p.right_key WHERE p.match_probability >= ? AND p.match_probability < ?
        AND a.master_id <> b.master_id""",
        [review, match],
    ).fetchall()
    sizes = dict(duck.execute("SELECT master_id, record_count FROM golden").fetchall())
    roots = _components(links)
    best: dict[str, tuple[int, str]] = {}
    for master, root in roots.items():
        candidate = (-int(sizes.get(master, 0)), master)
        if root not in best or candidate < best[root]:
            best[root] = candidate
    group_of = {master: best[root][1] for master, root in roots.items()}
    members = [(key, group_of.get(master, master)) for key, master in duck.execute("SELECT record_key, master_id FROM xref").fetchall()]
    return members, [(pid, pid) for pid in {pid for _, pid in members}]


def _certain(duck: duckdb.DuckDBPyConnection, _match: float, _review: float, certain: float) -> tuple[Any, Any]:
    """Each master split into the parts its most certain pairs join (a record joined by none is alone)."""
    links = duck.execute(
        """SELECT p.left_key, p.right_key FROM pairs p JOIN xref a ON a.record_key = p.left_key
        JOIN xref b ON b.record_key = p.right_key WHERE p.match_probability >= ? AND a.master_id = b.master_id""",
        [certain],
    ).fetchall()
    roots = _components(links)
    xref = duck.execute("SELECT record_key, master_id FROM xref").fetchall()
    members = [(key, f"{master}#{roots.get(key, key)}") for key, master in xref]
    owner = {f"{master}#{roots.get(key, key)}": master for key, master in xref}
    return members, list(owner.items())


Grouper = Callable[[duckdb.DuckDBPyConnection, float, float, float], tuple[Any, Any]]
_GROUPERS: dict[str, Grouper] = {"review": _review, "certain": _certain}  # `index` is plain SQL (build_groupings)


def _components(links: list[tuple[str, str]]) -> dict[str, str]:
    """Union-find: each node of the links → its component's root."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in links:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {node: find(node) for node in parent}


def _table(duck: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    data = pa.table({column: pa.array([row[i] for row in rows], pa.string()) for i, column in enumerate(columns)})  # noqa: F841 - read by DuckDB
    duck.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM data")


def copy_query(source: Engine | Connection, duck: duckdb.DuckDBPyConnection, query: Select[Any], table: str) -> None:
    """A store query's rows into a new DuckDB table of that name, streamed in Arrow batches."""
    rows = arrow_stream(source, query)  # noqa: F841 - read by DuckDB
    duck.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM rows")
