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
worklists = ["child_vaccination"]  # health only: each publish also delivers who entered and left these worklists
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.registry import DEPARTMENTS
from connectors.source import setting
from mmi.sections import read_section
from schemas.changeset import shareable_fields
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.config import Settings

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PREFIX = re.compile(r"^[0-9]{1,6}$")


@dataclass(frozen=True)
class _ExchangeTable:
    """`[exchange]` as written (subscriptions come from their own tables)."""

    out_dir: Path = setting(Path("changesets"), kind="path")
    max_events: Any = 10_000
    batch_events: Any = 20_000
    workers: Any = 1


@dataclass(frozen=True)
class _SubscriberTable:
    """`[subscribers.NAME]` as written; its values are checked one by one below, each with its own advice."""

    department: Any = None
    jurisdiction: Any = None
    fields: Any = None
    worklists: Any = None


@dataclass(frozen=True)
class Subscription:
    name: str
    department: str
    jurisdiction: tuple[str, ...]  # district code prefixes
    fields: tuple[str, ...]  # golden fields it may see, in the schema's order
    worklists: tuple[str, ...] = ()  # indicators whose worklist changes it receives (mmi.exchange.worklists)

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
    """The exchange's section of settings read once (mmi.config)."""
    assert settings.exchange is not None, "settings are built by mmi.config, which reads [exchange]"
    return settings.exchange


def read_exchange(table: Any, subscribers: Any, base: Path) -> ExchangeSettings:
    """`[exchange]` and every `[subscribers.NAME]`; ConfigError names the table and value to fix."""
    exchange = read_section(_ExchangeTable, table, "exchange", base)
    subscribers = {} if subscribers is None else subscribers
    if not isinstance(subscribers, dict):
        raise ConfigError("'subscribers' must be tables: [subscribers.NAME] with department, jurisdiction, fields")
    return ExchangeSettings(
        out_dir=exchange.out_dir,
        subscriptions={name: parse_subscription(name, table, base) for name, table in sorted(subscribers.items())},
        max_events=_positive(exchange.max_events, "max_events"),
        batch_events=_positive(exchange.batch_events, "batch_events"),
        workers=_positive(exchange.workers, "workers"),
    )


def parse_subscription(name: str, table: Any, base: Path = Path()) -> Subscription:
    where = f"subscribers.{name}"
    if not _NAME.match(name):
        raise ConfigError(
            f"[{where}]: a subscriber's name is 1-64 lower-case letters, digits, '-' or '_' (it names a folder and a token subject)"
        )
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table with department, jurisdiction and fields")
    read = read_section(_SubscriberTable, table, where, base)
    if read.department not in DEPARTMENTS:
        raise ConfigError(f"[{where}] department = {read.department!r}: use one of {list(DEPARTMENTS)}")
    return Subscription(
        name,
        read.department,
        _jurisdiction(read.jurisdiction, f"[{where}]"),
        _fields(read.fields, f"[{where}]"),
        _worklists(read.worklists, read.department, f"[{where}]"),
    )


def _jurisdiction(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f'{where} needs jurisdiction = [district code prefixes], e.g. ["4101"] for Zhengzhou')
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


def _worklists(value: Any, department: str, where: str) -> tuple[str, ...]:
    """The worklists a health subscriber receives: indicators of the current definitions that count persons."""
    if value is None:
        return ()
    from mmi.indicators.definitions import load_definitions  # the definitions are data read once, not an exchange concern

    persons = [indicator.id for indicator in load_definitions().indicators if indicator.unit == "person"]
    if department != "health":
        raise ConfigError(f"{where} worklists: only a health department's subscription receives worklists, not {department}")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{where} worklists = [indicator ids], e.g. ["child_vaccination"], from {persons}')
    unknown = [item for item in value if item not in persons]
    if unknown:
        raise ConfigError(f"{where} worklists: {unknown} are not indicators with a worklist; use some of {persons}")
    return tuple(dict.fromkeys(value))


def _positive(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"[exchange] {key} = {value!r}: give a whole number, at least 1")
    return value
