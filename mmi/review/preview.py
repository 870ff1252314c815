"""What a decision would do before it is made: masters kept, created, retired; subscribers that would hear.

A decision becomes link constraints (`plan_constraints`); its effect is worked out the way the next run will
work it out, on the records of the masters involved: their links at or above the match threshold, the stored
constraints with the new ones in place of any on the same pairs, clustered by linkage.clustering and given
master IDs by linkage.master_ids (a new master is named by its records: IDs are minted by the run). Masters
change nowhere else, because a master's records are closed under links. Four eyes apply when a master that
changes (merged, split, retired) was already delivered to a subscriber.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations, count
from typing import Any

from sqlalchemy import Connection, Engine, select

from linkage.clustering import cluster_records, ordered
from linkage.master_ids import assign_master_ids
from mmi.exchange.subscriptions import Subscription
from mmi.principal import Principal
from mmi.review.access import require_reader
from mmi.review.errors import InvalidDecision
from mmi.review.items import item_records, visible_item
from mmi.review.lookups import masters_of, members_of
from mmi.review.models import DecisionRequest, Preview
from mmi.review.priority import delivered_to
from mmi.store.index_tables import link_constraint, linkage_run, master_record, match_pair
from mmi.store.review_tables import review_decision

Constraint = tuple[str, str, str]  # (must_link | cannot_link, left_key, right_key)
NEW = "new:"


@dataclass(frozen=True)
class Plan:
    item_kind: str  # the kind decided on: an invalidated item is decided as its original decision's item was
    records: list[str]
    groups: list[list[str]]
    constraints: list[Constraint]
    preview: Preview


def preview_decision(
    engine: Engine, principal: Principal, item_id: int, request: DecisionRequest, subscriptions: Mapping[str, Subscription] | None = None
) -> Preview:
    """The decision's effect on the index, computed without changing anything."""
    require_reader(principal)
    with engine.connect() as connection:
        return plan_decision(connection, visible_item(connection, principal, item_id), request, subscriptions or {}).preview


def plan_decision(connection: Connection, item: Any, request: DecisionRequest, subscriptions: Mapping[str, Subscription]) -> Plan:
    kind, records = _decided_kind_and_records(connection, item)
    groups, constraints = plan_constraints(kind, records, request)
    masters = sorted(set(masters_of(connection, records).values()))
    before = _members(connection, masters)
    after = _simulate(connection, before, constraints)
    changed = _changed_masters(before, after)
    reached = delivered_to(connection, masters)
    published = sorted(set().union(*(reached.get(master, set()) for master in masters)))
    hears = _subscribers_hearing(connection, changed, after, reached, subscriptions)
    preview = Preview(
        decision=request.decision,
        constraints=[list(constraint) for constraint in constraints],
        kept=sorted(m for m in after if not m.startswith(NEW)),
        created=sorted(", ".join(sorted(after[m])) for m in after if m.startswith(NEW)),
        retired=sorted(set(before) - set(after)),
        subscribers=hears,
        published_to=published,
        needs_approval=any(reached.get(master) for master in changed if master in before),
        groups=groups,
    )
    return Plan(kind, records, groups, constraints, preview)


def _decided_kind_and_records(connection: Connection, item: Any) -> tuple[str, list[str]]:
    if item.kind != "invalidated":
        return item.kind, item_records(connection, item)
    original = connection.execute(
        select(review_decision.c.item_kind, review_decision.c.records).where(review_decision.c.id == item.decision_id)
    ).one()
    return original.item_kind, json.loads(original.records)


def plan_constraints(kind: str, records: list[str], request: DecisionRequest) -> tuple[list[list[str]], list[Constraint]]:
    """The records' grouping a decision asks for, and the constraints that say it."""
    if (
        request.decision in ("match", "not_match")
        and kind not in ("pair", "conflict")
        and not (kind == "cluster" and request.decision == "match")
    ):
        raise InvalidDecision(f"a {kind} is decided by a split (or match, to confirm it is one person), not {request.decision}")
    if request.decision == "split" and kind != "cluster":
        raise InvalidDecision(f"only a cluster can be split; decide a {kind} with match or not_match")
    if request.decision == "match":
        return [sorted(records)], [_constraint("must_link", records[0], other) for other in records[1:]]
    if request.decision == "not_match":
        return [[key] for key in records], [_constraint("cannot_link", a, b) for a, b in combinations(records, 2)]
    if request.record is not None:
        if request.record not in records:
            raise InvalidDecision(f"{request.record} is not one of the cluster's records {records}")
        rest = [key for key in records if key != request.record]
        return [[request.record], rest], [_constraint("cannot_link", request.record, other) for other in rest]
    groups = [sorted(group) for group in request.groups or []]
    _check_partition(groups, records)
    must = [_constraint("must_link", group[0], other) for group in groups for other in group[1:]]
    cannot = [_constraint("cannot_link", a, b) for one, two in combinations(groups, 2) for a in one for b in two]
    return groups, must + cannot


def _constraint(kind: str, a: str, b: str) -> Constraint:
    return (kind, *ordered(a, b))


def _check_partition(groups: list[list[str]], records: list[str]) -> None:
    listed = [key for group in groups for key in group]
    if len(groups) < 2 or any(not group for group in groups):
        raise InvalidDecision("a split needs at least two non-empty groups")
    if sorted(listed) != sorted(records):
        missing, unknown = sorted(set(records) - set(listed)), sorted(set(listed) - set(records))
        twice = sorted({key for key in listed if listed.count(key) > 1})
        raise InvalidDecision(
            f"the groups must hold each of the cluster's records once: missing {missing}, not in it {unknown}, twice {twice}"
        )


def _members(connection: Connection, masters: list[str]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {master: set() for master in masters}
    for record, master in members_of(connection, masters).items():
        members[master].add(record)
    return members


def _simulate(connection: Connection, before: dict[str, set[str]], constraints: list[Constraint]) -> dict[str, set[str]]:
    """Masters after the next run, as linkage would make them from these records' links and constraints."""
    records = sorted(set().union(*before.values())) if before else []
    members = set(records)
    threshold = (
        connection.execute(
            select(linkage_run.c.match_threshold).where(linkage_run.c.status == "done").order_by(linkage_run.c.id.desc()).limit(1)
        ).scalar()
        or 1.0
    )
    matches = [
        (a, b, p)
        for a, b, p in connection.execute(
            select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability).where(
                match_pair.c.left_key.in_(records), match_pair.c.match_probability >= threshold
            )
        )
        if b in members
    ]
    stored = {
        (a, b): kind
        for kind, a, b in connection.execute(
            select(link_constraint.c.kind, link_constraint.c.left_key, link_constraint.c.right_key).where(
                link_constraint.c.left_key.in_(records)
            )
        )
    }
    stored |= {(a, b): kind for kind, a, b in constraints}
    clustering = cluster_records(
        records,
        matches,
        [pair for pair, kind in stored.items() if kind == "must_link"],
        [pair for pair, kind in stored.items() if kind == "cannot_link"],
    )
    previous = {key: master for master, keys in before.items() for key in keys}
    numbers = count(1)
    assignment = assign_master_ids(previous, clustering.cluster_of, lambda: f"{NEW}{next(numbers)}")
    after: dict[str, set[str]] = {}
    for key, master in assignment.master_of.items():
        after.setdefault(master, set()).add(key)
    return after


def _changed_masters(before: dict[str, set[str]], after: dict[str, set[str]]) -> list[str]:
    return sorted({m for m in before if after.get(m) != before[m]} | {m for m in after if before.get(m) != after[m]})


def _subscribers_hearing(
    connection: Connection,
    changed: list[str],
    after: dict[str, set[str]],
    reached: dict[str, set[str]],
    subscriptions: Mapping[str, Subscription],
) -> list[str]:
    """Subscribers whose jurisdiction holds a changed master (its golden district), or that already hold it."""
    existing = [master for master in changed if not master.startswith(NEW)]
    districts = dict(
        connection.execute(
            select(master_record.c.master_id, master_record.c.current_district).where(master_record.c.master_id.in_(existing))
        ).all()
    )
    hears = set().union(*(reached.get(master, set()) for master in existing)) if existing else set()
    for master in changed:
        district = districts.get(master) or _any_district(connection, districts, before_members=after.get(master, set()))
        hears |= {name for name, subscription in subscriptions.items() if subscription.covers(district)}
    return sorted(hears)


def _any_district(connection: Connection, districts: dict[str, str | None], before_members: set[str]) -> str | None:
    """A new master's district: that of a master one of its records comes from."""
    masters = masters_of(connection, before_members)
    return next((districts[m] for m in masters.values() if districts.get(m)), None)
