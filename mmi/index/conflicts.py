"""Identity conflicts in a link run: the ID numbers clustering weighs, the refusals it records, and the invariant.

- `identities_of`: the reclustered records whose ID number is valid, as linkage.conflicts reads them;
- `conflict_rows`: the `link_conflict` rows of a run, one per match a conflict rule refused, with the masters both
  sides ended in: these are the stewards' `conflict` items (and the `kind = conflict` lines of `mmi export review`);
- `check_identity_invariant`: after clustering, before anything is written, no master of the whole index may hold
  two records whose valid ID numbers conflict unless a steward's must-link joined those numbers. Clustering makes
  this true by construction; the check is independent of it (it reads the assignment the run is about to store),
  so a fault anywhere (clustering, master IDs, a previous run) fails the run loudly instead of merging two people.
- `write_conflicts`: in the run's transaction, the rows of the reclustered records are replaced by the run's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
from sqlalchemy import Connection, bindparam, delete

from linkage.clustering import Pair, RefusedLink
from linkage.conflicts import ExcusedNumbers, Identity, find_unexcused_conflict
from mmi.index.events import ASSIGNMENT
from mmi.store.index_tables import link_conflict
from mmi.store.landing import bulk_insert
from schemas.errors import LinkageError


class IdentityInvariantViolated(LinkageError):
    """A master would hold two records whose valid ID numbers conflict: the run is refused, nothing is written."""


def identities_of(duck: duckdb.DuckDBPyConnection, records: str = "affected") -> dict[str, Identity]:
    """The records of `records` (a table of unique_id) whose ID number is valid."""
    rows = duck.execute(f"""SELECT unique_id, id_number, id_check_carried FROM records
                            WHERE id_valid AND unique_id IN (SELECT unique_id FROM {records})""").fetchall()
    return {key: Identity(number, carried) for key, number, carried in rows}


def conflict_rows(refused: Iterable[RefusedLink], weights: Mapping[Pair, float], master_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `link_conflict` rows (without run and model version) of the matches clustering refused."""
    return [
        {
            "left_key": link.left,
            "right_key": link.right,
            "rule": link.conflict.rule,
            "detail": link.conflict.detail,
            "conflicting_left_key": link.conflicting[0],
            "conflicting_right_key": link.conflicting[1],
            "match_probability": link.probability,
            "match_weight": weights[(link.left, link.right)],
            "left_master_id": master_of.get(link.left),
            "right_master_id": master_of.get(link.right),
        }
        for link in refused
    ]


def check_identity_invariant(duck: duckdb.DuckDBPyConnection, must_link: Iterable[Pair]) -> None:
    """Raise IdentityInvariantViolated if any master (as the run would leave the index) holds conflicting numbers."""
    rows = duck.execute(f"""
        WITH assigned AS (
            SELECT unique_id, master_id FROM master_of WHERE unique_id NOT IN (SELECT unique_id FROM {ASSIGNMENT})
            UNION ALL SELECT unique_id, master_id FROM {ASSIGNMENT}
        ), numbered AS (
            SELECT a.master_id, r.unique_id, r.id_number, r.id_check_carried FROM assigned a JOIN records r USING (unique_id) WHERE r.id_valid
        )
        SELECT * FROM numbered WHERE master_id IN (
            SELECT master_id FROM numbered GROUP BY master_id HAVING count(DISTINCT id_number) > 1)
        ORDER BY master_id, unique_id
    """).fetchall()
    by_master: dict[str, dict[Identity, str]] = defaultdict(dict)
    for master, key, number, carried in rows:
        by_master[master].setdefault(Identity(number, carried), key)
    identities = {key: identity for held in by_master.values() for identity, key in held.items()}
    excused = ExcusedNumbers(must_link, {**identities, **_must_linked_identities(duck, must_link)})
    for master, held in by_master.items():
        members = sorted(held.items(), key=lambda item: item[1])
        for i, (identity_a, key_a) in enumerate(members):
            for identity_b, key_b in members[i + 1 :]:
                conflict = find_unexcused_conflict(identity_a, identity_b, excused)
                if conflict is not None:
                    raise IdentityInvariantViolated(
                        f"master {master} would hold {key_a} and {key_b}, two people by rule {conflict.rule} ({conflict.detail}), "
                        "and no steward must-linked them: nothing was written. This is a fault in linkage; run `mmi link --full`, "
                        "and if it persists report it with this message"
                    )


def _must_linked_identities(duck: duckdb.DuckDBPyConnection, must_link: Iterable[Pair]) -> dict[str, Identity]:
    keys = sorted({key for pair in must_link for key in pair})
    if not keys:
        return {}
    rows = duck.execute(
        "SELECT unique_id, id_number, id_check_carried FROM records WHERE id_valid AND unique_id IN (SELECT unnest($keys))", {"keys": keys}
    ).fetchall()
    return {key: Identity(number, carried) for key, number, carried in rows}


def write_conflicts(connection: Connection, rows: list[dict[str, Any]], run: Mapping[str, Any], reclustered: list[str] | None) -> None:
    """Replace the conflicts of the reclustered records (`None`: every record, a full run) with the run's. A refused
    pair lies inside the reclustered closure (it is a match), so its left key names it."""
    if reclustered is None:
        connection.execute(delete(link_conflict))
    else:
        statement = delete(link_conflict).where(link_conflict.c.left_key.in_(bindparam("keys", expanding=True)))
        for start in range(0, len(reclustered), 500):
            connection.execute(statement, {"keys": reclustered[start : start + 500]})
    if rows:
        bulk_insert(connection, link_conflict, [{**row, "run_id": run["id"], "model_version_id": run["model_version_id"]} for row in rows])
