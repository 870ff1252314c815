"""The registry of departments: every source the project reads, in the order the project lists departments.

Each connector folder declares its `SOURCE` (connectors.source); this tuple is the one list of them. Everything
that needs the departments (the config's `[sources.*]` tables, ingest, the command line, the tasks, the DAGs, the
generator's config, golden-record trust) iterates over it.
"""

from __future__ import annotations

from typing import Any

from connectors import health, human_resources, public_security, statistics
from connectors.source import Source
from schemas.errors import ConfigError

SOURCES: tuple[Source[Any], ...] = (public_security.SOURCE, human_resources.SOURCE, statistics.SOURCE, health.SOURCE)
DEPARTMENTS: tuple[str, ...] = tuple(source.department for source in SOURCES)
_BY_NAME = {source.department: source for source in SOURCES}


def source(department: str) -> Source[Any]:
    """The source of `department`; ConfigError naming the departments there are."""
    try:
        return _BY_NAME[department]
    except KeyError:
        raise ConfigError(f"unknown department {department!r}: one of {', '.join(DEPARTMENTS)}") from None
