"""A small index of known people in two cities, served for real (API and pages), once per backend and module.

Zhengzhou (4101: districts 410105 and 410102) and Shenzhen (4403): children due a vaccination, one vaccinated,
and adults with and without a health record. Every person's name, phone, ID number, master ID and record keys are
kept in `Sentinels`, so a test can assert that none of them reaches a planner. A snapshot of the month-end before
A is stored (the trend, and the `snapshot` source); A itself has none (the `computed` source).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mmi.indicators import snapshot_indicators
from mmi.store.database import open_store
from tests.conftest import fresh_postgres_schema
from tests.mmi.indicators.builder import StoreBuilder
from tests.mmi.web.server import Served, serve

A = dt.date(2026, 8, 31)
SNAPSHOT_DAY = dt.date(2026, 7, 31)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Sentinels:
    """What identifies a person: none of it may appear in what a planner reads."""

    values: list[str] = field(default_factory=list)
    unvaccinated: dict[str, str] = field(default_factory=dict)  # master ID → district, of the children due a vaccination

    def found_in(self, text: str) -> list[str]:
        return [value for value in self.values if value in text]


@dataclass
class IndicatorSite:
    served: Served
    sentinels: Sentinels


@contextlib.contextmanager
def backend_url(backend: str, folder: Path, postgres_problem: str | None) -> Iterator[str]:
    """A store URL of the backend: a SQLite file in `folder`, or a fresh PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'mmi.db'}"
        return
    with fresh_postgres_schema(postgres_problem) as url:
        yield url


def populate(build: StoreBuilder) -> Sentinels:
    sentinels = Sentinels()
    serial = 0

    def person(district: str, birth: dt.date, vaccinated: bool = False, health_record: bool = False) -> str:
        nonlocal serial
        serial += 1
        master = f"MSENT{serial:04d}"
        name, phone, id_number = f"哨兵{serial:02d}号", f"1390000{serial:04d}", f"{district}19900101{serial:03d}X"
        keys = build.person(
            master, birth=birth, district=district, start=dt.date(2023, 2, 1), health=True, name=name, phone=phone, id_number=id_number
        )
        if vaccinated:
            build.service(keys["health"], "VACCINATION", dt.date(2023, 3, 1), vaccine="MMR", dose=1)
        if health_record:
            build.service(keys["health"], "HEALTH_RECORD", dt.date(2024, 1, 5))
        sentinels.values += [master, name, phone, id_number, *(key.split("|", 1)[1] for key in keys.values())]
        if not vaccinated and birth > dt.date(2020, 1, 1):
            sentinels.unvaccinated[master] = district
        return master

    for district in ("410105", "410105", "410102", "440305"):
        person(district, dt.date(2022, 5, 1))
    person("410105", dt.date(2021, 6, 1), vaccinated=True)
    for district, recorded in (("410105", True), ("410105", False), ("410102", True), ("440305", False), ("440305", True)):
        person(district, dt.date(1985, 3, 3), health_record=recorded)
    return sentinels


@contextlib.contextmanager
def indicator_site(backend: str, folder: Path, postgres_problem: str | None) -> Iterator[IndicatorSite]:
    with backend_url(backend, folder, postgres_problem) as url:
        engine = open_store(url)
        try:
            sentinels = populate(StoreBuilder(engine))
            snapshot_indicators(engine, as_of=SNAPSHOT_DAY)
            with serve(folder, url, engine) as served:
                yield IndicatorSite(served, sentinels)
        finally:
            engine.dispose()
