"""The health platform's persons and service events, as the pages its API serves (one JSON item a line).

A person's health record number and date match their HEALTH_RECORD event. Children aged 0–6 are vaccinated and
checked; many of them have no ID card yet and are known by their guardian's. Some persons appear twice, an
earlier version and the current one (the later replaces the earlier). Structural faults, quarantined by a
correct pipeline: person items without a person_id, and service items whose service_type FEEDS.md does not list.
Items are sorted by (updated_at, key), as the API orders them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthetic.context import FeedContext, iso_china, office_time, random_day, shuffled
from synthetic.health_events import Event, ServicePlanner
from synthetic.ledger import QUARANTINE, RECORD
from synthetic.noise import Noise
from synthetic.population import Person, truth_key

DEPARTMENT = "health"
PERSON_FIELDS = (
    "person_id",
    "name",
    "id_card",
    "sex",
    "birth_date",
    "phone",
    "address",
    "address_code",
    "guardian_id_card",
    "health_record_no",
    "health_record_date",
    "updated_at",
)
COVERAGE_ADULT, COVERAGE_CHILD = 0.62, 0.92
UNKNOWN_SERVICE_TYPES = ("CHRONIC_DISEASE_FOLLOWUP", "MENTAL_HEALTH", "ELDERLY_CARE", "TCM_SERVICE")


@dataclass(slots=True)
class Item:
    """One line of persons.jsonl or services.jsonl, kept as UTF-8 JSON (hundreds of thousands are held until
    they can be written in order, so they are kept small), with what the ledger needs to know about it."""

    updated_at: str
    key: str  # person_id or event_id; '' when corrupted away
    line: bytes
    person: int  # the truth: the person's index
    good: bool = True

    @classmethod
    def of(cls, data: dict[str, Any], person: Person) -> Item:
        key = data.get("person_id") if "event_id" not in data else data["event_id"]
        line = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return cls(data["updated_at"], key or "", line, person.index)

    @property
    def data(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.line)
        return parsed

    def replace(self, data: dict[str, Any]) -> None:
        """Change the item (rarely done: corruption, a delivery's timestamp)."""
        self.updated_at, self.line = data["updated_at"], json.dumps(data, ensure_ascii=False).encode("utf-8")

    @property
    def sort_key(self) -> tuple[str, str]:
        return self.updated_at, self.key


@dataclass
class HealthBatch:
    persons: list[Item] = field(default_factory=list)
    services: list[Item] = field(default_factory=list)


class HealthWriter:
    """Turns people into person items and their service events; also used by the follow-up delivery."""

    def __init__(self, ctx: FeedContext, rng: random.Random, noise: Noise, serials: dict[str, int], earlier_versions: bool = True) -> None:
        self.ctx, self.rng, self.noise = ctx, rng, noise
        self.serials = serials  # next person and event numbers
        self.services = ServicePlanner(rng, ctx.now)
        self.earlier_versions = earlier_versions

    def service(self, batch: HealthBatch, person: Person, person_id: str, event: Event, district: str | None = None) -> None:
        """A service event item; `district` where it happened, if not the person's current district."""
        service_type, day, detail, updated = event
        event_id = f"EV{self.serials.setdefault('event', 1):010d}"
        self.serials["event"] += 1
        data = {
            "event_id": event_id,
            "person_id": person_id,
            "service_type": service_type,
            "service_date": day.isoformat(),
            "district_code": district or person.district,
            "detail": detail,
            "updated_at": iso_china(updated),
        }
        batch.services.append(Item.of(data, person))

    def add_person(self, batch: HealthBatch, person: Person, guardian_id: str | None) -> str:
        """The person's item (maybe also an earlier version) and their services; returns the person_id."""
        serial = self.serials.setdefault("person", 1)
        self.serials["person"] = serial + 1
        person_id = f"JK{person.district}{serial:08d}"
        record_no, record_day = self._health_record(person, serial)
        births = [self.ctx.person(child).birth for child in person.children]
        events = self.services.plan(person, record_no, record_day, births)
        for event in events:
            self.service(batch, person, person_id, event)
        last_event = max((updated.date() for *_, updated in events), default=person.res_start)
        yesterday = self.ctx.now - dt.timedelta(days=1)
        updated = random_day(self.rng, max(last_event, self.ctx.now - dt.timedelta(days=120)), yesterday)
        if self.earlier_versions and self.rng.random() < 0.05 and updated > person.res_start:
            earlier = random_day(self.rng, person.res_start, updated - dt.timedelta(days=1))
            if record_day is not None and record_day > earlier:  # the earlier version predates the record
                batch.persons.append(self._person_item(person, person_id, guardian_id, None, None, earlier))
            else:
                batch.persons.append(self._person_item(person, person_id, guardian_id, record_no, record_day, earlier))
        batch.persons.append(self._person_item(person, person_id, guardian_id, record_no, record_day, updated))
        return person_id

    def _health_record(self, person: Person, serial: int) -> tuple[str | None, dt.date | None]:
        """Most migrants resident six months have a standardized health record; few newcomers do."""
        settled = (self.ctx.now - person.res_start).days >= 183
        first = person.res_start + dt.timedelta(days=7)
        if self.rng.random() >= (0.8 if settled else 0.1) or first >= self.ctx.now:
            return None, None
        day = random_day(self.rng, first, self.ctx.now - dt.timedelta(days=1))
        return f"{person.district}{serial:011d}", day

    def _person_item(
        self,
        person: Person,
        person_id: str,
        guardian_id: str | None,
        record_no: str | None,
        record_day: dt.date | None,
        updated: dt.date,
    ) -> Item:
        noise = self.noise
        young = person.age(self.ctx.now) <= 6
        id_card = None if young and self.rng.random() < 0.5 else noise.person_id_number(person.id_number)
        values = (
            person_id,
            noise.name(person.surname, person.given),
            id_card,
            person.sex,
            noise.birth_date(person.birth).isoformat(),
            noise.phone(person.phone, person.old_phone),
            person.address,
            person.district,
            noise.id_number(guardian_id) if guardian_id and young else None,
            record_no,
            record_day.isoformat() if record_day else None,
            iso_china(office_time(self.rng, updated)),
        )
        return Item.of(dict(zip(PERSON_FIELDS, values, strict=True)), person)


def write_health(ctx: FeedContext) -> dict[str, int]:
    """Write health/persons.jsonl and services.jsonl for the people the platform knows."""
    rng = ctx.rng(DEPARTMENT)
    writer = HealthWriter(ctx, rng, ctx.noise(DEPARTMENT, rng), {})
    batch = HealthBatch()
    known = 0
    for person in shuffled(rng, ctx.people):
        coverage = COVERAGE_CHILD if person.age(ctx.now) <= 6 else COVERAGE_ADULT
        if rng.random() < ctx.mix.covered(coverage):
            guardian = ctx.person(person.guardian).id_number if person.guardian is not None else None
            writer.add_person(batch, person, guardian)
            known += 1
    corrupt = corrupt_items(ctx, rng, batch)
    folder = ctx.out_dir / DEPARTMENT
    folder.mkdir(parents=True, exist_ok=True)
    write_items(ctx, folder / "persons.jsonl", "persons", batch.persons, append=False)
    write_items(ctx, folder / "services.jsonl", "services", batch.services, append=False)
    return {
        "persons": len(batch.persons),
        "services": len(batch.services),
        "corrupt": corrupt,
        "people": known,
        "next_person": writer.serials.get("person", 1),
        "next_event": writer.serials.get("event", 1),
    }


def corrupt_items(ctx: FeedContext, rng: random.Random, batch: HealthBatch) -> int:
    """Persons without person_id (deleted or null), services with a service_type FEEDS.md does not list."""
    for position in ctx.corrupt_rows(rng, len(batch.persons), ("no_person_id",)):
        item = batch.persons[position]
        data = item.data
        if rng.random() < 0.5:
            del data["person_id"]
        else:
            data["person_id"] = None
        item.replace(data)
        item.key, item.good = "", False
    services = ctx.corrupt_rows(rng, len(batch.services), ("unknown_service_type",))
    for position in services:
        item = batch.services[position]
        item.replace({**item.data, "service_type": rng.choice(UNKNOWN_SERVICE_TYPES)})
        item.good = False
    return sum(not item.good for item in batch.persons) + len(services)


def write_items(ctx: FeedContext, path: Path, stream: str, items: list[Item], append: bool) -> None:
    """Write items sorted by (updated_at, key), after the lines already there when appending."""
    items.sort(key=lambda item: item.sort_key)
    first_line = 1
    if append and path.exists():
        with open(path, "rb") as handle:
            first_line += sum(1 for _ in handle)
    with open(path, "ab" if append else "wb") as handle:
        handle.writelines(item.line + b"\n" for item in items)
    for line, item in enumerate(items, start=first_line):
        ctx.ledger.delivered(DEPARTMENT, stream, item.key, f"{path.name}:{line}", RECORD if item.good else QUARANTINE)
        if item.good and stream == "persons":
            ctx.ledger.truth(DEPARTMENT, item.key, truth_key(item.person))
