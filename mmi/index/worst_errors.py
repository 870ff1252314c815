"""`mmi evaluate --worst N`: the index's worst mistakes against truth, each with its two records side by side.

- A **false merge** is two records in one master that truth says are two people. The worst are those the model
  was surest of: the pair's own score, highest first; a pair joined only through a chain (no score of its own)
  comes after, with the strongest link of the chain that touches either record.
- A **false split** is two records of one person in two masters. The worst are those the model was surest were two
  people: never scored (blocking did not pair them) first, then the lowest scores; a pair an identity-conflict rule
  refused says so (`refused_by`).

Every entry carries both records' linkage fields as rows `[field, left, right]`, the truth's persons and the
masters, and the pair's match probability and weight, so that anyone can see why it failed.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from mmi.store.index_tables import link_conflict, match_pair
from mmi.store.tables import source_record

FIELDS = (
    "name",
    "id_number",
    "id_valid",
    "masked_id_region",
    "masked_id_tail",
    "guardian_id_number",
    "birth_date",
    "birth_year_month",
    "sex",
    "phone",
    "hukou_region",
    "current_district",
    "current_address",
    "quality_flags",
)

_MERGES = """
    SELECT a.unique_id AS left_key, b.unique_id AS right_key, a.cluster_id AS left_master, b.cluster_id AS right_master,
           ta.person AS left_person, tb.person AS right_person, p.match_probability, p.match_weight,
           (SELECT max(q.match_probability) FROM scored q WHERE q.left_key IN (a.unique_id, b.unique_id)
                                                             OR q.right_key IN (a.unique_id, b.unique_id)) AS strongest_link
    FROM clusters a JOIN clusters b ON a.cluster_id = b.cluster_id AND a.unique_id < b.unique_id
    JOIN truth ta ON ta.unique_id = a.unique_id JOIN truth tb ON tb.unique_id = b.unique_id AND ta.person <> tb.person
    LEFT JOIN scored p ON p.left_key = a.unique_id AND p.right_key = b.unique_id
    ORDER BY p.match_probability DESC NULLS LAST, strongest_link DESC, left_key, right_key LIMIT $n
"""
_SPLITS = """
    SELECT t.id_l AS left_key, t.id_r AS right_key, a.cluster_id AS left_master, b.cluster_id AS right_master,
           ta.person AS left_person, ta.person AS right_person, p.match_probability, p.match_weight, c.rule AS refused_by
    FROM truth_pairs t JOIN clusters a ON a.unique_id = t.id_l JOIN clusters b ON b.unique_id = t.id_r AND a.cluster_id <> b.cluster_id
    JOIN truth ta ON ta.unique_id = t.id_l
    LEFT JOIN scored p ON p.left_key = t.id_l AND p.right_key = t.id_r
    LEFT JOIN conflicts c ON c.left_key = t.id_l AND c.right_key = t.id_r
    ORDER BY p.match_probability ASC NULLS FIRST, left_key, right_key LIMIT $n
"""


def worst_errors(engine: Engine, duck: duckdb.DuckDBPyConnection, n: int) -> dict[str, list[dict[str, Any]]]:
    """The `n` worst false merges and false splits; `duck` holds `clusters`, `truth` and `truth_pairs` as
    mmi.index.evaluation builds them."""
    _load(
        engine,
        duck,
        "scored",
        select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability, match_pair.c.match_weight),
    )
    _load(engine, duck, "conflicts", select(link_conflict.c.left_key, link_conflict.c.right_key, link_conflict.c.rule))
    merges = _rows(duck, _MERGES, n)
    splits = _rows(duck, _SPLITS, n)
    records = _records(engine, {entry[side] for entry in merges + splits for side in ("left_key", "right_key")})
    for entry in merges + splits:
        left, right = records.get(entry["left_key"], {}), records.get(entry["right_key"], {})
        entry["fields"] = [[name, left.get(name), right.get(name)] for name in ("department", *FIELDS)]
    return {"worst_false_merges": merges, "worst_false_splits": splits}


def _rows(duck: duckdb.DuckDBPyConnection, sql: str, n: int) -> list[dict[str, Any]]:
    result = duck.execute(sql, {"n": n})
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _load(engine: Engine, duck: duckdb.DuckDBPyConnection, table: str, query: Any) -> None:
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    names = [column.name for column in query.selected_columns]
    staged = pa.table(  # noqa: F841 - read by DuckDB by its name
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=pa.schema([(name, pa.float64() if name.startswith("match_") else pa.string()) for name in names]),
    )
    duck.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM staged")


def _records(engine: Engine, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The current versions of the records named by `keys` ("department|source_key")."""
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(keys)
    columns = [source_record.c.department, source_record.c.source_key, *(source_record.c[name] for name in FIELDS)]
    with engine.connect() as connection:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(*columns).where(
                source_record.c.is_current.is_(True), (source_record.c.department + "|" + source_record.c.source_key).in_(chunk)
            )
            for row in connection.execute(query).mappings():
                found[f"{row['department']}|{row['source_key']}"] = {name: _plain(value) for name, value in row.items()}
    return found


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
