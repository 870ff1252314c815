"""What each department's connector folder declares, once: its source.

A `Source` names the department, the typed settings read from its `[sources.<department>]` table, how to build
its connector from them, and the typed cursor its streams keep. The registry (`connectors.registry`) collects the
declarations; the config, the ingest pipeline, the command line, the tasks and the DAGs iterate over it, so a
new department is one new folder (connector, settings, cursor, `SOURCE`) plus its entry in the registry.

Settings are frozen dataclasses; `setting()` marks how the config reader treats a field: `env` names an
environment variable that overrides the file (secrets, addresses), `kind` is `"url"` (a SQLAlchemy URL, a
relative SQLite file taken from the config's folder) or `"path"` (relative to the config's folder).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from connectors.base import Connector, Cursor

S = TypeVar("S")
SettingKind = Literal["url", "path"]


def setting(default: Any = dataclasses.MISSING, *, env: str | None = None, kind: SettingKind | None = None) -> Any:
    """A settings field with what the config reader needs to know about it (see the module's doc)."""
    metadata = {key: value for key, value in (("env", env), ("kind", kind)) if value is not None}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Source(Generic[S]):
    department: str  # the name records, keys, Assets, DAGs and subscriptions use
    settings: type[S]  # read from [sources.<department>]
    connector: Callable[[S], Connector]
    cursor: type[Cursor]  # what a checkpoint of its streams stores, read back on the next run
    typical_share: int = 1  # relative size of its deliveries: with parallel ingest, the largest start first
    trust: int = 0  # how far its register is believed for a golden field no rule gives to a department (0: most)
