"""Clusters from scored pairs, honouring stewards' must-link and cannot-link decisions.

Pairs at or above the match threshold join their records, strongest first (ties: by record keys), except where
the join would put two records a steward said are different people into one cluster: that pair is refused and
the two stay apart. Must-link pairs join first, whatever their score. Because the order is fixed, the result
depends only on the pairs and constraints, so a full run and an incremental run that see the same pairs agree.

A cluster's result depends only on the pairs inside its connected component, which is what lets an incremental
run recluster just the components that changed (the index finds them in its workspace).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

Pair = tuple[str, str]  # (left key, right key), left < right


@dataclass(frozen=True)
class Clustering:
    cluster_of: dict[str, str]  # record key → cluster ID (its smallest record key)
    refused: list[Pair] = field(default_factory=list)  # pairs not joined because of a cannot-link
    conflicting_must_links: list[Pair] = field(default_factory=list)  # must-links that a cannot-link overrode


def ordered(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def cluster_records(
    records: Iterable[str],
    matches: Iterable[tuple[str, str, float]],
    must_link: Iterable[Pair] = (),
    cannot_link: Iterable[Pair] = (),
) -> Clustering:
    """Cluster `records` by `matches` (left, right, probability: pairs already at or above the threshold)."""
    forest = _Forest(records, cannot_link)
    conflicts = [pair for pair in sorted(ordered(*pair) for pair in must_link) if pair[0] in forest and pair[1] in forest and not forest.join(*pair)]
    refused = []
    for left, right, _probability in sorted(matches, key=lambda match: (-match[2], match[0], match[1])):
        if left in forest and right in forest and not forest.join(left, right):
            refused.append(ordered(left, right))
    return Clustering(forest.clusters(), refused, conflicts)


class _Forest:
    """Union-find whose components remember which records they may not be joined with."""

    def __init__(self, records: Iterable[str], cannot_link: Iterable[Pair]) -> None:
        self._parent = {record: record for record in records}
        self._members: dict[str, list[str]] = {record: [record] for record in self._parent}
        self._forbidden: dict[str, set[str]] = {}  # root → records its component may not join
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

    def join(self, a: str, b: str) -> bool:
        """Join the components of a and b; False if a cannot-link forbids it (already together counts as joined)."""
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
        self._parent[root_b] = root_a
        self._members[root_a] += self._members.pop(root_b)
        if forbidden_b:
            self._forbidden[root_a] = forbidden_a | self._forbidden.pop(root_b)
        return True

    def clusters(self) -> dict[str, str]:
        return {record: min(self._members[root]) for root in self._members for record in self._members[root]}
