"""What the index raises for review after a run: the four kinds of item, read from the index's own tables.

- `pair`: a scored pair in the review band (`match_pair` below the run's match threshold);
- `conflict`: a pair scored above it that an identity-conflict rule refused (`link_conflict`);
- `cluster`: a master that may hold two people: two different valid ID numbers in it (the design's strongest
  sign of a wrong merge: such numbers belong to two people), the link that holds it together near the threshold
  (the bottleneck of its strongest spanning tree), or few links for its size;
- `invalidated`: an accepted or proposed decision whose records have since got a new version.

A pair a steward has decided (a constraint exists) is not raised again; nor is a master that must-links hold
together. Harm and uncertainty are worked out in mmi.review.priority.

After an incremental run only the records it reclustered can raise anything new or stop raising it, so the
view and the candidates can be limited to a `scope` of record keys: the view then holds those records, the
records they are scored against, the masters of all of them and those masters' members (what priorities read).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, select

from linkage.clustering import Pair
from mmi.review.lookups import by_department, masters_of, members_of
from mmi.store.index_tables import link_conflict, link_constraint, linkage_run, master_xref, match_pair
from mmi.store.reads import arrow_batches, driver_rows, key_in
from mmi.store.review_tables import review_decision
from mmi.store.tables import source_record

WEAK_MARGIN_BITS = 4.0  # a bottleneck link within this many bits of the threshold's weight is "near the threshold"
SPARSE_DENSITY, SPARSE_SIZE = 0.5, 4  # masters of at least 4 records with under half their pairs linked


@dataclass
class Candidate:
    item_key: str
    kind: str
    records: list[str]
    masters: list[str]
    reason: str
    left_key: str | None = None
    right_key: str | None = None
    master_id: str | None = None
    match_probability: float | None = None
    match_weight: float | None = None
    model_version_id: int | None = None
    decision_id: int | None = None
    signals: dict[str, float] = field(default_factory=dict)  # what uncertainty is computed from


@dataclass
class IndexView:
    """What the candidates are read from: the last run's thresholds, masters and their records."""

    run_id: int
    match_threshold: float
    review_threshold: float
    master_of: dict[str, str]
    members: dict[str, list[str]]
    records: dict[str, dict[str, Any]]  # key → id_number, id_valid, version, district, department, birth_date
    constrained: set[Pair]
    must_link: list[Pair]
    scope: set[str] | None = None  # the record keys candidates are limited to; None: the whole index


_RECORD_COLUMNS = (
    source_record.c.department,
    source_record.c.source_key,
    source_record.c.version,
    source_record.c.id_number,
    source_record.c.id_valid,
    source_record.c.current_district,
    source_record.c.birth_date,
)


def read_index(connection: Connection, scope: Collection[str] | None = None) -> IndexView | None:
    """The index as the last successful run left it, whole or around the record keys of `scope`; None before the
    first run. A run with other thresholds than the run before it changes every pair's standing: read it whole."""
    runs = connection.execute(select(linkage_run).where(linkage_run.c.status == "done").order_by(linkage_run.c.id.desc()).limit(2)).all()
    if not runs:
        return None
    run = runs[0]
    if len(runs) < 2 or (runs[1].match_threshold, runs[1].review_threshold) != (run.match_threshold, run.review_threshold):
        scope = None
    if scope is None:  # a million rows each: read by the driver (mmi.store.reads)
        xref = select(master_xref.c.department, master_xref.c.source_key, master_xref.c.master_id)
        master_of = {f"{d}|{k}": m for d, k, m in driver_rows(connection, xref)}
        current = select(*_RECORD_COLUMNS).where(source_record.c.is_current.is_(True))
        records = {
            f"{row['department']}|{row['source_key']}": row for batch in arrow_batches(connection, current) for row in batch.to_pylist()
        }
    else:
        scope = set(scope)
        around = scope | _partners(connection, scope) | _decided_with(connection, scope)
        master_of = members_of(connection, set(masters_of(connection, around).values()))
        records = _current_records(connection, around | set(master_of))
    members: dict[str, list[str]] = defaultdict(list)
    for key, master in master_of.items():
        members[master].append(key)
    constraints = connection.execute(select(link_constraint.c.kind, link_constraint.c.left_key, link_constraint.c.right_key)).all()
    return IndexView(
        int(run.id),
        float(run.match_threshold),
        float(run.review_threshold),
        master_of,
        dict(members),
        records,
        {(left, right) for _kind, left, right in constraints},
        [(left, right) for kind, left, right in constraints if kind == "must_link"],
        scope,
    )


def rows_touching(connection: Connection, table: Table, keys: Collection[str], *where: ColumnElement[bool]) -> list[Row[Any]]:
    """The rows of a pair table (left_key, right_key) with either key in `keys`, each once."""
    found: dict[tuple[str, str], Row[Any]] = {}
    for side in (table.c.left_key, table.c.right_key):
        for row in connection.execute(select(table).where(key_in(connection, side, keys), *where)):
            found[(row.left_key, row.right_key)] = row
    return [found[pair] for pair in sorted(found)]


def _partners(connection: Connection, scope: set[str]) -> set[str]:
    """The records scope's records are scored against or were refused a link with."""
    rows = [*rows_touching(connection, match_pair, scope), *rows_touching(connection, link_conflict, scope)]
    return {key for row in rows for key in (row.left_key, row.right_key)}


def _decided_with(connection: Connection, scope: set[str]) -> set[str]:
    """The records of decisions in force that involve a record of the scope (their other records too)."""
    decided = connection.execute(select(review_decision.c.record_versions).where(review_decision.c.status.in_(("accepted", "proposed"))))
    keys: set[str] = set()
    for (versions,) in decided:
        records = set(json.loads(versions))
        if records & scope:
            keys |= records
    return keys


def _current_records(connection: Connection, keys: Collection[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for department, source_keys in by_department(keys).items():
        query = select(*_RECORD_COLUMNS).where(
            source_record.c.department == department,
            key_in(connection, source_record.c.source_key, source_keys),
            source_record.c.is_current.is_(True),
        )
        found |= {f"{row.department}|{row.source_key}": row._asdict() for row in connection.execute(query)}
    return found


def _pair_rows(connection: Connection, view: IndexView, table: Table, *where: ColumnElement[bool]) -> list[Row[Any]]:
    """A pair table's rows, all of them or those touching the view's scope."""
    if view.scope is None:
        return list(driver_rows(connection, select(table).where(*where)))
    return rows_touching(connection, table, view.scope, *where)


def pair_candidates(connection: Connection, view: IndexView) -> list[Candidate]:
    candidates = []
    for row in _pair_rows(connection, view, match_pair, match_pair.c.match_probability < view.match_threshold):
        if (row.left_key, row.right_key) in view.constrained:
            continue
        masters = sorted({view.master_of[key] for key in (row.left_key, row.right_key) if key in view.master_of})
        where = f"both in master {masters[0]}" if len(masters) == 1 else f"in masters {' and '.join(masters)}"
        reason = (
            f"scored {row.match_probability:.3f}, in the review band ({view.review_threshold:g} to {view.match_threshold:g}); "
            f"the records are {where}"
        )
        candidates.append(_scored_pair_candidate("pair", row, masters, reason))
    return candidates


def _scored_pair_candidate(kind: str, row: Row[Any], masters: list[str], reason: str) -> Candidate:
    """A candidate about one scored pair (a review-band pair or a refused conflict): its keys, score and model."""
    return Candidate(
        f"{kind}:{row.left_key}~{row.right_key}",
        kind,
        [row.left_key, row.right_key],
        masters,
        reason,
        row.left_key,
        row.right_key,
        None,
        row.match_probability,
        row.match_weight,
        row.model_version_id,
        signals={"probability": row.match_probability},
    )


def conflict_candidates(connection: Connection, view: IndexView) -> list[Candidate]:
    candidates = []
    for row in _pair_rows(connection, view, link_conflict):
        if (row.left_key, row.right_key) in view.constrained:
            continue
        masters = sorted(
            {m for m in (row.left_master_id, row.right_master_id, view.master_of.get(row.left_key), view.master_of.get(row.right_key)) if m}
        )
        reason = f"scored {row.match_probability:.4f}, above the match threshold, but rule {row.rule} refused the link: {row.detail}"
        candidates.append(_scored_pair_candidate("conflict", row, masters, reason))
    return candidates


def cluster_candidates(connection: Connection, view: IndexView) -> list[Candidate]:
    masters = set(view.members) if view.scope is None else {view.master_of[key] for key in view.scope if key in view.master_of}
    scoped = view if view.scope is None else dataclasses.replace(view, scope={key for m in masters for key in view.members[m]})
    links: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
    for row in _pair_rows(connection, scoped, match_pair, match_pair.c.match_probability >= view.match_threshold):
        master = view.master_of.get(row.left_key)
        if master is not None and master == view.master_of.get(row.right_key):
            links[master].append((row.left_key, row.right_key, row.match_probability, row.match_weight))
    for left, right in view.must_link:
        master = view.master_of.get(left)
        if master is not None and master == view.master_of.get(right):
            links[master].append((left, right, 1.0, math.inf))
    threshold_weight = math.log2(view.match_threshold / (1 - view.match_threshold))
    candidates = []
    for master in sorted(masters):
        records = view.members[master]
        if len(records) >= 2 and (candidate := _cluster(master, sorted(records), links.get(master, []), threshold_weight, view)):
            candidates.append(candidate)
    return candidates


def _cluster(
    master: str, records: list[str], links: list[tuple[str, str, float, float]], threshold_weight: float, view: IndexView
) -> Candidate | None:
    bottleneck = _bottleneck(records, links)
    if bottleneck is not None and math.isinf(bottleneck[3]):
        return None  # held together by a steward's must-links
    ids = sorted({view.records[key]["id_number"] for key in records if key in view.records and view.records[key]["id_valid"]})
    possible = len(records) * (len(records) - 1) / 2
    density = len({(left, right) for left, right, _p, _w in links}) / possible
    reasons, signals = [], {"density": density}
    if len(ids) > 1:
        reasons.append(f"it holds {len(ids)} different valid ID numbers, which belong to different people")
        signals["identity"] = 1.0
    if bottleneck is not None and bottleneck[3] - threshold_weight < WEAK_MARGIN_BITS:
        reasons.append(
            f"the link that holds it together ({bottleneck[0]} ~ {bottleneck[1]}) scored {bottleneck[2]:.5f}, "
            f"{bottleneck[3] - threshold_weight:.1f} bits above the threshold"
        )
        signals["margin_bits"] = bottleneck[3] - threshold_weight
    if len(records) >= SPARSE_SIZE and density < SPARSE_DENSITY:
        reasons.append(f"only {density:.0%} of its {int(possible)} record pairs are linked")
        signals["sparse"] = 1.0 - density
    if not reasons:
        return None
    probability = bottleneck[2] if bottleneck else None
    weight = bottleneck[3] if bottleneck else None
    members = hashlib.sha256("\n".join(records).encode()).hexdigest()[:16]  # a master whose records change is a new item
    return Candidate(
        f"cluster:{master}:{members}",
        "cluster",
        records,
        [master],
        f"master {master} ({len(records)} records) may hold two people: " + "; ".join(reasons),
        master_id=master,
        match_probability=probability,
        match_weight=weight,
        signals=signals,
    )


def _bottleneck(records: list[str], links: list[tuple[str, str, float, float]]) -> tuple[str, str, float, float] | None:
    """The weakest link of the strongest spanning tree: the link without which the master falls apart first."""
    parent = {record: record for record in records}

    def find(record: str) -> str:
        while parent[record] != record:
            parent[record] = parent[parent[record]]
            record = parent[record]
        return record

    weakest, joined = None, 1
    for link in sorted(links, key=lambda link: (-link[3], link[0], link[1])):
        a, b = find(link[0]), find(link[1])
        if a != b:
            parent[a] = b
            weakest, joined = link, joined + 1
    return weakest if joined == len(records) else None


def invalidated_candidates(connection: Connection, view: IndexView) -> list[Candidate]:
    query = select(review_decision).where(review_decision.c.status.in_(("accepted", "proposed")))
    candidates = []
    for row in connection.execute(query):
        decided: dict[str, int] = json.loads(row.record_versions)
        if view.scope is not None and not view.scope.intersection(decided):
            continue  # its records did not change in this run
        changed = {
            key: (version, view.records[key]["version"] if key in view.records else None)
            for key, version in decided.items()
            if key not in view.records or view.records[key]["version"] != version
        }
        if not changed:
            continue
        words = ", ".join(f"{key} v{old} → {'withdrawn' if new is None else f'v{new}'}" for key, (old, new) in sorted(changed.items()))
        records = sorted(decided)
        masters = sorted({view.master_of[key] for key in records if key in view.master_of})
        reason = f"decision {row.id} ({row.decision}, {row.status}) was made on records that have changed since: {words}"
        left, right = (records[0], records[1]) if len(records) == 2 else (None, None)  # a pair's: explained on the new values
        candidates.append(
            Candidate(
                f"invalidated:{row.id}",
                "invalidated",
                records,
                masters,
                reason,
                left,
                right,
                decision_id=int(row.id),
                signals={"changed": float(len(changed))},
            )
        )
    return candidates


def all_candidates(connection: Connection, view: IndexView) -> list[Candidate]:
    return [
        *conflict_candidates(connection, view),
        *pair_candidates(connection, view),
        *cluster_candidates(connection, view),
        *invalidated_candidates(connection, view),
    ]
