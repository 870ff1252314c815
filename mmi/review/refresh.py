"""Refreshing the queue after a link run: new items arrive, resolved ones leave, priorities follow the index.

Each candidate (mmi.review.candidates) has a stable key, so a refresh updates the item a steward may be looking
at instead of replacing it: an item keeps its ID while the index keeps raising it. An open item the index no
longer raises (the pair left the band, the master was split) is resolved as `gone`; one a steward decided was
resolved as `decided` when the decision was accepted. A cluster's key names its records, so a master whose
membership changed is a new item. Everything is written in one transaction; then the new pairs and conflicts get
Splink's explanation, in batches, so that opening an item reads it rather than scoring the pair.

An incremental run names the records it reclustered (`scope`): only items about them can arrive, change or
leave, so only they are worked out again — plus the items of masters delivered to a subscriber since the last
refresh, whose priority that delivery raised. The rest of the queue stands as the last refresh left it, which
is what a whole refresh would give (tests/mmi/review/test_queue.py compares the two).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, or_, select, update

from mmi.review.candidates import Candidate, IndexView, all_candidates, read_index
from mmi.review.explain import explain_pairs
from mmi.review.models import RefreshReport
from mmi.review.priority import delivered_since, delivered_to, prioritise, services_of
from mmi.store.landing import bulk_insert
from mmi.store.reads import key_in
from mmi.store.review_tables import review_explanation, review_item, review_item_record

EXPLAIN_BATCH = 5000  # pairs per Splink prediction (about 0.5 ms a pair, plus 0.3 s to set up)
_CHANGES_EXPLANATION = ("match_probability", "match_weight", "model_version_id", "records")


def refresh_queue(engine: Engine, *, scope: Collection[str] | None = None, now: dt.datetime | None = None) -> RefreshReport:
    """Bring the queue in line with the index as the last link run left it: the whole queue, or (after an
    incremental run) the items about the record keys of `scope`."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        if scope is not None:
            last = connection.execute(select(func.max(review_item.c.refreshed_at))).scalar()
            scope = set(scope) | (_delivered_items_records(connection, last) if last is not None else set())
        view = read_index(connection, scope)
        if view is None:
            return RefreshReport(run_id=None, opened=0, resolved=0, open=0, by_kind={})
        rows = _candidate_rows(connection, view, all_candidates(connection, view), now)
        opened = _upsert(connection, rows, view.run_id, now)
        resolved = _resolve_not_raised(connection, view.scope, now)
        by_kind: dict[str, int] = dict(
            connection.execute(
                select(review_item.c.kind, func.count()).where(review_item.c.status == "open").group_by(review_item.c.kind)
            ).all()
        )
    explain_pending(engine)
    return RefreshReport(run_id=view.run_id, opened=opened, resolved=resolved, open=sum(by_kind.values()), by_kind=by_kind)


def _delivered_items_records(connection: Connection, since: dt.datetime) -> set[str]:
    """The records of open items whose masters were delivered since `since`: a delivery only raises the priority
    of items already open about its master (items are raised by the index, not by deliveries), and each such item
    holds a record of that master. A first day's publication delivers hundreds of thousands of masters, of which
    a few thousand have an item: taking them all made the next day's refresh read half the index."""
    open_records = select(review_item_record.c.record_key).join(review_item, review_item.c.id == review_item_record.c.item_id)
    in_items = {key for (key,) in connection.execute(open_records.where(review_item.c.status == "open"))}
    return delivered_since(connection, since, in_items)


def _resolve_not_raised(connection: Connection, scope: set[str] | None, now: dt.datetime) -> int:
    """Open items this refresh looked at (all, or those with a record in `scope`) and did not raise: `gone`."""
    not_raised = or_(review_item.c.refreshed_at.is_(None), review_item.c.refreshed_at != now)
    resolve = (
        update(review_item).where(review_item.c.status == "open", not_raised).values(status="resolved", resolution="gone", resolved_at=now)
    )
    if scope is None:
        return int(connection.execute(resolve).rowcount)
    looked_at = select(review_item_record.c.item_id).where(key_in(connection, review_item_record.c.record_key, scope))
    return int(connection.execute(resolve.where(review_item.c.id.in_(looked_at))).rowcount)


def explain_pending(engine: Engine, batch: int = EXPLAIN_BATCH) -> int:
    """Keep Splink's explanation on every open pair or conflict that has none yet (new, or its score changed), a
    batch of pairs per prediction, so that an item page reads it instead of scoring; returns how many were kept."""
    unexplained = review_item.outerjoin(review_explanation, review_explanation.c.item_id == review_item.c.id)
    query = (
        select(review_item.c.id, review_item.c.left_key, review_item.c.right_key, review_item.c.model_version_id)
        .select_from(unexplained)
        .where(review_item.c.status == "open", review_item.c.left_key.is_not(None), review_explanation.c.item_id.is_(None))
        .order_by(review_item.c.model_version_id, review_item.c.id)
    )
    with engine.connect() as connection:
        pending = connection.execute(query).all()
    kept = 0
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        for version in sorted({row.model_version_id for row in chunk}, key=lambda v: v or 0):
            rows = [row for row in chunk if row.model_version_id == version]
            explained = explain_pairs(engine, [(row.left_key, row.right_key) for row in rows], version)
            values = [
                {"item_id": row.id, "explanation": explained[(row.left_key, row.right_key)].model_dump_json()}
                for row in rows
                if (row.left_key, row.right_key) in explained
            ]
            with engine.begin() as connection:
                _insert(connection, review_explanation, values)
            kept += len(values)
    return kept


def _candidate_rows(connection: Connection, view: IndexView, candidates: list[Candidate], now: dt.datetime) -> list[dict[str, Any]]:
    masters = {master for candidate in candidates for master in candidate.masters}
    people = {key for candidate in candidates for master in candidate.masters for key in view.members.get(master, ())}
    reached = delivered_to(connection, masters)
    services = services_of(connection, people | {key for candidate in candidates for key in candidate.records})
    rows = []
    for candidate in candidates:
        priority, factors = prioritise(candidate, view, reached, services, now.date())
        places = [(key, key.partition("|")[0], (view.records.get(key) or {}).get("current_district")) for key in candidate.records]
        rows.append(
            {
                "item_key": candidate.item_key,
                "kind": candidate.kind,
                "left_key": candidate.left_key,
                "right_key": candidate.right_key,
                "master_id": candidate.master_id,
                "records": json.dumps(candidate.records),
                "masters": json.dumps(candidate.masters),
                "match_probability": candidate.match_probability,
                "match_weight": candidate.match_weight,
                "model_version_id": candidate.model_version_id,
                "band": _band(candidate, view),
                "priority": priority,
                "reason": candidate.reason,
                "factors": json.dumps([factor.model_dump() for factor in factors], ensure_ascii=False),
                "decision_id": candidate.decision_id,
                **summary(places),
                "_records": places,
            }
        )
    return rows


def summary(places: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """An item's record summary columns from its (key, department, district) records."""
    districts = [district for _key, _department, district in places]
    known = None not in districts and bool(districts)
    return {
        "record_count": len(places),
        "district_low": min(districts) if known else None,  # type: ignore[type-var]
        "district_high": max(districts) if known else None,  # type: ignore[type-var]
        "departments": "," + ",".join(sorted({department for _key, department, _district in places})) + ",",
    }


def _band(candidate: Candidate, view: IndexView) -> str | None:
    """Thirds of the review band by probability; conflicts (above the threshold) are `high`."""
    p = candidate.match_probability
    if p is None or candidate.kind not in ("pair", "conflict"):
        return None
    third = (view.match_threshold - view.review_threshold) / 3
    return "low" if p < view.review_threshold + third else "middle" if p < view.review_threshold + 2 * third else "high"


def _upsert(connection: Connection, rows: list[dict[str, Any]], run_id: int, now: dt.datetime) -> int:
    """Insert new items, update those already there (reopening any the index raises again); returns how many opened."""
    existing = {
        item.item_key: item
        for item in connection.execute(
            select(review_item).where(key_in(connection, review_item.c.item_key, {row["item_key"] for row in rows}))
        )
    }
    fresh = [row for row in rows if row["item_key"] not in existing]
    _insert(
        connection,
        review_item,
        [
            {**_columns(row), "status": "open", "opened_at": now, "opened_run_id": run_id, "refreshed_run_id": run_id, "refreshed_at": now}
            for row in fresh
        ],
    )
    fresh_keys = {row["item_key"] for row in fresh}
    ids = dict(
        connection.execute(
            select(review_item.c.item_key, review_item.c.id).where(key_in(connection, review_item.c.item_key, fresh_keys))
        ).all()
    )
    changed, unexplained, reopened = [], [], 0
    for row in rows:
        old = existing.get(row["item_key"])
        if old is None:
            continue
        values = {**_columns(row), "key": old.id, "refreshed_run_id": run_id, "refreshed_at": now}
        if old.status != "open":
            reopened += 1
            values |= {"status": "open", "resolved_at": None, "resolution": None, "opened_at": now, "opened_run_id": run_id}
        else:
            values |= {
                "status": old.status,
                "resolved_at": old.resolved_at,
                "resolution": old.resolution,
                "opened_at": old.opened_at,
                "opened_run_id": old.opened_run_id,
            }
        if any(getattr(old, name) != values[name] for name in _CHANGES_EXPLANATION):
            unexplained.append(old.id)
        changed.append(values)
        ids[row["item_key"]] = old.id
    if changed:
        connection.execute(update(review_item).where(review_item.c.id == bindparam("key")), changed)
    if unexplained:  # scores or records changed: explained again below
        connection.execute(delete(review_explanation).where(key_in(connection, review_explanation.c.item_id, unexplained)))
    _write_records(connection, rows, ids, fresh_keys)
    return len(fresh) + reopened


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        bulk_insert(connection, table, rows)


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if not name.startswith("_")}


def _write_records(connection: Connection, rows: list[dict[str, Any]], ids: dict[str, int], fresh_keys: set[str]) -> None:
    """Each item's records with department and district: rewritten where they differ from what is stored."""
    stored: dict[int, set[tuple[str, str, str | None]]] = {}
    known = {ids[row["item_key"]] for row in rows if row["item_key"] not in fresh_keys}
    for item_id, key, department, district in connection.execute(
        select(review_item_record).where(key_in(connection, review_item_record.c.item_id, known))
    ):
        stored.setdefault(item_id, set()).add((key, department, district))
    rewrite = {
        ids[row["item_key"]]: set(row["_records"])
        for row in rows
        if row["item_key"] in fresh_keys or stored.get(ids[row["item_key"]]) != set(row["_records"])
    }
    if replaced := [item_id for item_id in rewrite if item_id in stored]:
        connection.execute(delete(review_item_record).where(key_in(connection, review_item_record.c.item_id, replaced)))
    _insert(
        connection,
        review_item_record,
        [
            {"item_id": item_id, "record_key": key, "department": department, "district": district}
            for item_id, records in rewrite.items()
            for key, department, district in records
        ],
    )
