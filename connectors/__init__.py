"""Connectors: one subpackage per department, each reading that department's native feed (docs/feeds.md).

Each subpackage declares its `SOURCE` (settings, connector, cursor); `connectors.registry` lists them.
`connectors_for(sources)` builds the connectors of the configured sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Checkpoint, Connector, Cursor, Delivery, Row, SourceState, TakenFile, Unreadable

__all__ = ["Checkpoint", "Connector", "Cursor", "Delivery", "Row", "SourceState", "TakenFile", "Unreadable", "connectors_for"]


def connectors_for(sources: Mapping[str, Any], only: str | None = None) -> list[Connector]:
    """The connectors of `sources` (department → its typed settings), in the registry's order, or only `only`'s."""
    from connectors.registry import SOURCES

    return [
        source.connector(sources[source.department])
        for source in SOURCES
        if source.department in sources and only in (None, source.department)
    ]
