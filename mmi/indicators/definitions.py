"""The indicator definitions, read from their versioned file (schemas/indicators/v1.toml) into typed values.

A definition is data: a unit, an area, the predicates of its population and of what counts as served, a target.
This module only reads and checks the file: every predicate must be one mmi.indicators.predicates knows, with
exactly the parameters it takes, so a typo in the file is refused when it is read, naming the indicator, not
turned into a silently wrong rate. The immunization schedule the file names is read the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import ConfigError

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "schemas" / "indicators"
CURRENT_VERSION = "v1"
UNITS = ("person", "disease_report")
AREAS = ("registration", "survey")


@dataclass(frozen=True)
class Predicate:
    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, key: str) -> Any:
        return dict(self.params)[key]


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    unit: str  # person, disease_report
    area: str  # registration: the current registration's district; survey: the surveyed district
    population: tuple[Predicate, ...]
    served: tuple[Predicate, ...]
    target: float | None


@dataclass(frozen=True)
class ScheduleDose:
    vaccine: str
    dose: int
    months: int  # the child's age in months when the dose falls due


@dataclass(frozen=True)
class Definitions:
    version: str
    indicators: tuple[Indicator, ...]
    schedule_version: str
    schedule: tuple[ScheduleDose, ...]

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        known = ", ".join(indicator.id for indicator in self.indicators)
        raise ConfigError(f"no indicator {indicator_id!r} in definitions {self.version} (known: {known})")

    def select(self, ids: list[str] | None) -> tuple[Indicator, ...]:
        return self.indicators if not ids else tuple(self.indicator(indicator_id) for indicator_id in ids)


def load_definitions(version: str = CURRENT_VERSION, folder: Path = DEFINITIONS_DIR) -> Definitions:
    """The definitions of `version` (the file `<folder>/<version>.toml`), checked; ConfigError says what is wrong."""
    from mmi.indicators.predicates import check_predicate

    raw = _read_toml(folder / f"{version}.toml")
    if raw.get("version") != version:
        raise ConfigError(f"{folder / f'{version}.toml'}: its version is {raw.get('version')!r}, expected {version!r}")
    indicators = []
    for entry in raw.get("indicator", []):
        indicator = _indicator(entry)
        for role in ("population", "served"):
            for predicate in getattr(indicator, role):
                check_predicate(indicator, predicate, role)
        indicators.append(indicator)
    if len({indicator.id for indicator in indicators}) != len(indicators):
        raise ConfigError(f"definitions {version}: an indicator id appears twice")
    schedule = _read_toml(folder / str(raw.get("schedule", "")))
    doses = tuple(ScheduleDose(str(d["vaccine"]), int(d["dose"]), int(d["months"])) for d in schedule.get("dose", []))
    return Definitions(version, tuple(indicators), str(schedule.get("version", "")), doses)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"indicator definitions {path} do not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"indicator definitions {path} are not valid TOML: {error}") from None


def _indicator(entry: dict[str, Any]) -> Indicator:
    known = {"id", "title", "unit", "area", "population", "served", "target"}
    indicator_id = str(entry.get("id", "?"))
    if unknown := set(entry) - known:
        raise ConfigError(f"indicator {indicator_id}: unknown keys {sorted(unknown)} (accepted: {sorted(known)})")
    if entry.get("unit") not in UNITS or entry.get("area") not in AREAS:
        raise ConfigError(f"indicator {indicator_id}: unit must be one of {UNITS} and area one of {AREAS}")
    target = entry.get("target")
    if target is not None and not 0 <= float(target) <= 1:
        raise ConfigError(f"indicator {indicator_id}: target {target} is not a share between 0 and 1")
    return Indicator(
        id=indicator_id,
        title=str(entry.get("title", indicator_id)),
        unit=entry["unit"],
        area=entry["area"],
        population=tuple(_predicate(indicator_id, item) for item in entry.get("population", [])),
        served=tuple(_predicate(indicator_id, item) for item in entry.get("served", [])),
        target=float(target) if target is not None else None,
    )


def _predicate(indicator_id: str, item: dict[str, Any]) -> Predicate:
    if "predicate" not in item:
        raise ConfigError(f"indicator {indicator_id}: {item} names no predicate")
    params = tuple(sorted((key, value) for key, value in item.items() if key != "predicate"))
    return Predicate(str(item["predicate"]), params)
