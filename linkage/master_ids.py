"""Stable master IDs: carry each person's ID from one clustering to the next, and say what changed.

Rules (the linkage issue's):
- an ID follows the larger overlap: a master's ID goes to the new cluster holding most of its records;
- a merge keeps the older ID and retires the other, naming the one it lives on in;
- a split keeps the ID on the larger part; the other parts get new IDs that say what they split from;
- a master none of whose records remain is retired with no successor.
Ties are broken the same way every time (by the smallest record key), so a full run on unchanged data changes
nothing. This module is pure: it decides IDs and events; storing them (with the outbox, in one transaction) is
the index's job.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from schemas.events import MasterEvent


@dataclass(frozen=True)
class Assignment:
    master_of: dict[str, str]  # record key → master ID
    events: list[MasterEvent] = field(default_factory=list)


def assign_master_ids(
    previous: Mapping[str, str],
    clusters: Mapping[str, str],
    new_id: Callable[[], str],
    age: Callable[[str], str] = lambda master_id: master_id,
) -> Assignment:
    """Master IDs for `clusters` (record → cluster), given `previous` (record → master ID).

    `new_id()` mints an ID; `age(id)` orders IDs oldest first (by default the IDs themselves, which suits IDs
    minted from a sequence).
    """
    old_members = _members(previous)
    new_members = _members(clusters)
    claims = _claims(old_members, clusters)  # cluster → the old masters whose largest overlap it holds
    master_of_cluster: dict[str, str] = {}
    events: list[MasterEvent] = []
    for cluster in sorted(new_members, key=lambda c: min(new_members[c])):
        members = new_members[cluster]
        claimants = sorted(claims.get(cluster, []), key=age)
        if claimants:
            kept, absorbed = claimants[0], claimants[1:]
            master_of_cluster[cluster] = kept
            events += _kept_events(kept, absorbed, old_members, members)
        else:
            master = new_id()
            master_of_cluster[cluster] = master
            came_from = tuple(sorted({previous[record] for record in members if record in previous}, key=age))
            events.append(MasterEvent("split" if came_from else "create", master, after=frozenset(members), related=came_from))
    events += _retired_without_successor(old_members, claims)
    master_of = {record: master_of_cluster[cluster] for record, cluster in clusters.items()}
    return Assignment(master_of, sorted(events, key=lambda event: (event.master_id, event.operation)))


def _members(assignment: Mapping[str, str]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for record, group in assignment.items():
        groups[group].add(record)
    return groups


def _claims(old_members: Mapping[str, set[str]], clusters: Mapping[str, str]) -> dict[str, list[str]]:
    """Each old master claims the new cluster holding most of its records (ties: the smallest record key)."""
    claims: dict[str, list[str]] = defaultdict(list)
    for master, records in old_members.items():
        overlap = Counter(clusters[record] for record in records if record in clusters)
        if overlap:
            first_record = {cluster: min(r for r in records if clusters.get(r) == cluster) for cluster in overlap}
            best = max(overlap, key=lambda cluster: (overlap[cluster], _reverse(first_record[cluster])))
            claims[best].append(master)
    return claims


def _kept_events(kept: str, absorbed: list[str], old_members: Mapping[str, set[str]], members: set[str]) -> list[MasterEvent]:
    before, after = frozenset(old_members[kept]), frozenset(members)
    events = [MasterEvent("retire", master, before=frozenset(old_members[master]), related=(kept,)) for master in absorbed]
    if absorbed:
        events.append(MasterEvent("merge", kept, before, after, related=tuple(absorbed)))
    elif before != after:
        events.append(MasterEvent("update", kept, before, after))
    return events


def _retired_without_successor(old_members: Mapping[str, set[str]], claims: Mapping[str, list[str]]) -> list[MasterEvent]:
    claimed = {master for masters in claims.values() for master in masters}
    return [MasterEvent("retire", master, before=frozenset(records)) for master, records in old_members.items() if master not in claimed]


def _reverse(key: str) -> tuple[int, ...]:
    """Sorts keys in reverse, for `max` to prefer the smallest."""
    return tuple(-ord(character) for character in key)
