"""A cluster as a small graph: its records, the scored links between them, and which links hold it together.

A link is a `bridge` when the master's records fall apart without it (counting only links at or above the match
threshold and must-links): the link a steward should look at first.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, select

from linkage.clustering import ordered
from mmi.review.models import ClusterGraph, GraphLink
from mmi.store.index_tables import link_constraint, match_pair


def cluster_graph(connection: Connection, master_id: str, records: list[str], match_threshold: float) -> ClusterGraph:
    members = set(records)
    query = select(match_pair.c.left_key, match_pair.c.right_key, match_pair.c.match_probability, match_pair.c.match_weight).where(
        match_pair.c.left_key.in_(sorted(members))
    )
    constraints = {
        (left, right): kind
        for kind, left, right in connection.execute(
            select(link_constraint.c.kind, link_constraint.c.left_key, link_constraint.c.right_key).where(
                and_(link_constraint.c.left_key.in_(sorted(members)), link_constraint.c.right_key.in_(sorted(members)))
            )
        )
    }
    links = [
        GraphLink(left=left, right=right, match_probability=p, match_weight=w, constraint=constraints.get((left, right)))  # type: ignore[arg-type]
        for left, right, p, w in connection.execute(query)
        if right in members
    ]
    scored = {(link.left, link.right) for link in links}
    links += [
        GraphLink(left=left, right=right, match_probability=0.0, match_weight=0.0, constraint=kind)  # type: ignore[arg-type]
        for (left, right), kind in sorted(constraints.items())
        if (left, right) not in scored
    ]
    holding = [
        link
        for link in links
        if link.constraint != "cannot_link" and (link.constraint == "must_link" or link.match_probability >= match_threshold)
    ]
    for link in holding:
        link.bridge = not _connected(records, [other for other in holding if other is not link])
    possible = len(records) * (len(records) - 1) / 2 or 1
    weakest = min(holding, key=lambda link: (link.constraint == "must_link", link.match_weight), default=None)
    return ClusterGraph(
        master_id=master_id,
        nodes=sorted(records),
        links=sorted(links, key=lambda link: ordered(link.left, link.right)),
        density=round(len(scored) / possible, 4),
        weakest=weakest,
    )


def _connected(records: list[str], links: list[GraphLink]) -> bool:
    if not records:
        return True
    neighbours: dict[str, set[str]] = {record: set() for record in records}
    for link in links:
        neighbours[link.left].add(link.right)
        neighbours[link.right].add(link.left)
    seen, frontier = {records[0]}, [records[0]]
    while frontier:
        for other in neighbours[frontier.pop()] - seen:
            seen.add(other)
            frontier.append(other)
    return len(seen) == len(records)
