"""Subscriptions and the exchange's settings, read from the config's `[exchange]` and `[subscribers.NAME]` tables.

```toml
[exchange]
out_dir = "var/changesets"     # where change-set files are written (default: changesets/ beside the config)
max_events = 10000             # events per change-set file at most
batch_events = 20000           # outbox events read per publishing transaction
workers = 1                    # processes that project and encode large batches (2 on a two-core machine)

[subscribers.zhengzhou-health]
department = "health"          # the subscriber's own department: its record keys are shared back with it
jurisdiction = ["4101"]        # district code prefixes of the migrants it may see
fields = ["name", "id_number", "birth_date", "sex", "current_district", "residence_start"]
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmi.config import Settings
from mmi.errors import ConfigError
from schemas.canonical import DEPARTMENTS
from schemas.changeset import shareable_fields

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PREFIX = re.compile(r"^[0-9]{1,6}$")
_KEYS = {"department", "jurisdiction", "fields"}


@dataclass(frozen=True)
class Subscription:
    name: str
    department: str
    jurisdiction: tuple[str, ...]  # district code prefixes
    fields: tuple[str, ...]  # golden fields it may see, in the schema's order

    def covers(self, district: str | None) -> bool:
        """Whether a person living in `district` is in this subscriber's jurisdiction."""
        return district is not None and district.startswith(self.jurisdiction)


@dataclass(frozen=True)
class ExchangeSettings:
    out_dir: Path
    subscriptions: dict[str, Subscription]
    max_events: int = 10_000
    batch_events: int = 20_000
    workers: int = 1


def exchange_settings(settings: Settings) -> ExchangeSettings:
    """The exchange's settings from the config; ConfigError names the table and value to fix."""
    base = settings.config_path.parent if settings.config_path else Path.cwd()
    section = settings.raw.get("exchange", {})
    unknown = set(section) - {"out_dir", "max_events", "batch_events", "workers"}
    if unknown:
        raise ConfigError(f"[exchange] has unknown keys {sorted(unknown)}: it takes out_dir, max_events, batch_events, workers")
    out_dir = Path(section.get("out_dir", "changesets"))
    subscribers = settings.raw.get("subscribers", {})
    if not isinstance(subscribers, dict):
        raise ConfigError("'subscribers' must be tables: [subscribers.NAME] with department, jurisdiction, fields")
    return ExchangeSettings(
        out_dir=out_dir if out_dir.is_absolute() else (base / out_dir).resolve(),
        subscriptions={name: parse_subscription(name, table) for name, table in sorted(subscribers.items())},
        max_events=_positive(section, "max_events", 10_000),
        batch_events=_positive(section, "batch_events", 20_000),
        workers=_positive(section, "workers", 1),
    )


def parse_subscription(name: str, table: Any) -> Subscription:
    where = f"[subscribers.{name}]"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: a subscriber's name is 1-64 lower-case letters, digits, '-' or '_' (it names a folder and a token subject)")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table with department, jurisdiction and fields")
    if unknown := set(table) - _KEYS:
        raise ConfigError(f"{where} has unknown keys {sorted(unknown)}: it takes {sorted(_KEYS)}")
    department = table.get("department")
    if department not in DEPARTMENTS:
        raise ConfigError(f"{where} department = {department!r}: use one of {list(DEPARTMENTS)}")
    return Subscription(name, department, _jurisdiction(table.get("jurisdiction"), where), _fields(table.get("fields"), where))


def _jurisdiction(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} needs jurisdiction = [district code prefixes], e.g. [\"4101\"] for Zhengzhou")
    bad = [prefix for prefix in value if not isinstance(prefix, str) or not _PREFIX.match(prefix)]
    if bad:
        raise ConfigError(f"{where} jurisdiction {bad}: each prefix is 1-6 digits of a GB/T 2260 code, as a string")
    return tuple(value)


def _fields(value: Any, where: str) -> tuple[str, ...]:
    known = shareable_fields()
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} needs fields = [golden fields it may see], from {list(known)}")
    unknown = [field for field in value if field not in known]
    if unknown:
        raise ConfigError(f"{where} fields: unknown golden fields {unknown}; the fields are {list(known)}")
    return tuple(field for field in known if field in value)


def _positive(section: dict[str, Any], key: str, default: int) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"[exchange] {key} = {value!r}: give a whole number, at least 1")
    return value
