"""Clusters from scored pairs, honouring stewards' must-link and cannot-link decisions and identity conflicts.

Pairs at or above the match threshold join their records, strongest first (ties: by record keys), except where
the join would put two records a steward said are different people into one cluster, or two records whose ID
numbers say they are two people (linkage.conflicts): that pair is refused and the two stay apart. A conflict
refusal is kept with its rule and the two records that conflict (the pair itself, or two records the chain would
have joined), for a steward to see. Must-link pairs join first, whatever their score and whatever the ID numbers
say; numbers a must-link joined never conflict afterwards. Because the order is fixed, the result
depends only on the pairs and constraints, so a full run and an incremental run that see the same pairs agree.

A cluster's result depends only on the pairs inside its connected component, which is what lets an incremental
run recluster just the components that changed (the index finds them in its workspace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from linkage.conflicts import Conflict, ExcusedNumbers, Identity, find_unexcused_conflict

Pair = tuple[str, str]  # (left key, right key), left < right


@dataclass(frozen=True)
class RefusedLink:
    """A match an identity conflict refused: the pair, its probability, the rule, and the two conflicting records."""

    left: str
    right: str
    probability: float
    conflict: Conflict
    conflicting: Pair


@dataclass(frozen=True)
class Clustering:
    cluster_of: dict[str, str]  # record key → cluster ID (its smallest record key)
    refused: list[Pair] = field(default_factory=list)  # pairs not joined because of a cannot-link
    conflicting_must_links: list[Pair] = field(default_factory=list)  # must-links that a cannot-link overrode
    identity_conflicts: list[RefusedLink] = field(default_factory=list)  # matches refused by linkage.conflicts


def ordered(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def cluster_records(
    records: Iterable[str],
    matches: Iterable[tuple[str, str, float]],
    must_link: Iterable[Pair] = (),
    cannot_link: Iterable[Pair] = (),
    identities: Mapping[str, Identity] | None = None,
) -> Clustering:
    """Cluster `records` by `matches` (left, right, probability: pairs already at or above the threshold).
    `identities`: the records with a valid ID number (record key → what the number says); the others never conflict."""
    must_link = sorted(ordered(*pair) for pair in must_link)
    identities = identities or {}
    forest = _Forest(records, cannot_link, identities, ExcusedNumbers(must_link, identities))
    conflicts = [pair for pair in must_link if pair[0] in forest and pair[1] in forest and not forest.join(*pair, steward=True)]
    refused, identity_conflicts = [], []
    for left, right, probability in sorted(matches, key=lambda match: (-match[2], match[0], match[1])):
        if left not in forest or right not in forest:
            continue
        if not forest.join(left, right):
            refused.append(ordered(left, right))
        elif forest.last_conflict is not None:
            conflict, conflicting = forest.last_conflict
            identity_conflicts.append(RefusedLink(*ordered(left, right), probability, conflict, conflicting))
    return Clustering(forest.clusters(), refused, conflicts, identity_conflicts)


class _Forest:
    """Union-find whose components remember which records they may not be joined with, and which ID numbers
    they hold (one record per distinct number and kind, which is all the conflict rules look at)."""

    def __init__(
        self, records: Iterable[str], cannot_link: Iterable[Pair], identities: Mapping[str, Identity], excused: ExcusedNumbers
    ) -> None:
        self._parent = {record: record for record in records}
        self._members: dict[str, list[str]] = {record: [record] for record in self._parent}
        self._forbidden: dict[str, set[str]] = {}  # root → records its component may not join
        self._identities: dict[str, dict[Identity, str]] = {  # root → identity → a record carrying it
            record: {identities[record]: record} for record in self._parent if record in identities
        }
        self._excused = excused
        self._record_identity = identities
        self.last_conflict: tuple[Conflict, Pair] | None = None  # why the last join returned True without joining
        for left, right in cannot_link:
            if left in self._parent and right in self._parent:
                self._forbidden.setdefault(left, set()).add(right)
                self._forbidden.setdefault(right, set()).add(left)

    def __contains__(self, record: str) -> bool:
        return record in self._parent

    def find(self, record: str) -> str:
        root = record
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[record] != root:
            self._parent[record], record = root, self._parent[record]
        return root

    def join(self, a: str, b: str, *, steward: bool = False) -> bool:
        """Join the components of a and b; False if a cannot-link forbids it (already together counts as joined).
        An identity conflict leaves them apart too, but returns True with `last_conflict` set; a steward's
        must-link (`steward`) joins whatever the numbers say."""
        self.last_conflict = None
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if len(self._members[root_a]) < len(self._members[root_b]):
            root_a, root_b = root_b, root_a
        forbidden_a, forbidden_b = self._forbidden.get(root_a, set()), self._forbidden.get(root_b, set())
        if forbidden_a and not forbidden_a.isdisjoint(self._members[root_b]):
            return False
        if forbidden_b and not forbidden_b.isdisjoint(self._members[root_a]):
            return False
        if not steward:
            self.last_conflict = self._conflict(root_a, root_b, ordered(a, b))
            if self.last_conflict is not None:
                return True
        self._parent[root_b] = root_a
        self._members[root_a] += self._members.pop(root_b)
        if forbidden_b:
            self._forbidden[root_a] = forbidden_a | self._forbidden.pop(root_b)
        if root_b in self._identities:
            self._identities.setdefault(root_a, {}).update(self._identities.pop(root_b))
        return True

    def _conflict(self, root_a: str, root_b: str, pair: Pair) -> tuple[Conflict, Pair] | None:
        """The first conflict between the two components' ID numbers, preferring the pair itself."""
        ids_a, ids_b = self._identities.get(root_a, {}), self._identities.get(root_b, {})
        if not ids_a or not ids_b:
            return None
        left, right = pair
        if left in self._record_identity and right in self._record_identity:
            direct = find_unexcused_conflict(self._record_identity[left], self._record_identity[right], self._excused)
            if direct is not None:
                return direct, pair
        candidates = sorted(
            (record_a, identity_a, record_b, identity_b) for identity_a, record_a in ids_a.items() for identity_b, record_b in ids_b.items()
        )
        for record_a, identity_a, record_b, identity_b in candidates:
            conflict = find_unexcused_conflict(identity_a, identity_b, self._excused)
            if conflict is not None:
                return conflict, ordered(record_a, record_b)
        return None

    def clusters(self) -> dict[str, str]:
        return {record: min(self._members[root]) for root in self._members for record in self._members[root]}
