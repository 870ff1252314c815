"""Which basic public health services a migrant received, and when (the service types of FEEDS.md section 4).

The eligibility rules follow the policy the indicators measure: vaccination and child care for children 0–6,
family planning for women 15–49, maternal care around a birth in the city, health education for everyone,
and infectious disease reports, mostly on the day of diagnosis and sometimes late.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from synthetic.context import office_time, random_day
from synthetic.population import Person

Event = tuple[str, dt.date, dict[str, Any], dt.datetime]  # service_type, service_date, detail, updated

# The national immunisation schedule: (vaccine, dose, age in months).
VACCINES = (
    ("HepB", 1, 0),
    ("BCG", 1, 0),
    ("HepB", 2, 1),
    ("IPV", 1, 2),
    ("IPV", 2, 3),
    ("DTaP", 1, 3),
    ("bOPV", 1, 4),
    ("DTaP", 2, 4),
    ("DTaP", 3, 5),
    ("HepB", 3, 6),
    ("MenA", 1, 6),
    ("MMR", 1, 8),
    ("JE", 1, 8),
    ("MenA", 2, 9),
    ("DTaP", 4, 18),
    ("MMR", 2, 18),
    ("HepA", 1, 18),
    ("JE", 2, 24),
    ("MenAC", 1, 36),
    ("bOPV", 2, 48),
    ("DT", 1, 72),
)
ON_SCHEDULE = 0.25  # the children whose every dose due while here was given (the others: one to four of them)
ACTIVITIES = ("LECTURE", "LECTURE", "CONSULTATION", "MATERIALS", "WORKSHOP")
FAMILY_PLANNING = ("GUIDANCE", "CONTRACEPTION", "FREE_PRE_PREGNANCY_CHECK")
DISEASES = ("TUBERCULOSIS", "HEPATITIS_B", "HAND_FOOT_MOUTH", "INFLUENZA", "SYPHILIS", "SCARLET_FEVER", "MUMPS")


class ServicePlanner:
    def __init__(self, rng: random.Random, now: dt.date) -> None:
        self.rng = rng
        self.now = now
        self.last_day = now - dt.timedelta(days=1)

    def plan(self, person: Person, record_no: str | None, record_day: dt.date | None, child_births: list[dt.date]) -> list[Event]:
        """Every event of the person, each on a day they lived here and before delivery."""
        events: list[Event] = []
        if record_no and record_day:
            events.append(self._event("HEALTH_RECORD", record_day, {"record_no": record_no}))
        age = person.age(self.now)
        if age <= 6:
            events += self._vaccinations(person) + self._child_care(person)
        elif self.rng.random() < 0.3:
            activity = {"activity": self.rng.choice(ACTIVITIES)}
            events.append(self._event("HEALTH_EDUCATION", self._recent_day(person, 365), activity))
        if person.sex == "2" and 15 <= age <= 49:
            events += self._family_planning(person) + self._maternal_care(person, age, child_births)
        if self.rng.random() < 0.012:
            events.append(self._infectious_disease(person))
        return [event for event in events if person.res_start <= event[1] <= self.last_day]

    def _event(self, service_type: str, day: dt.date, detail: dict[str, Any], updated: dt.date | None = None) -> Event:
        return service_type, day, detail, office_time(self.rng, updated or day)

    def _recent_day(self, person: Person, days: int) -> dt.date:
        return random_day(self.rng, max(person.res_start, self.now - dt.timedelta(days=days)), self.last_day)

    def _vaccinations(self, person: Person) -> list[Event]:
        """Of the doses that fell due while the child lived here, each given a little late: every one for a child
        on schedule (ON_SCHEDULE of them), one to four for the others."""
        due = []
        for vaccine, dose, months in VACCINES:
            day = person.birth + dt.timedelta(days=int(months * 30.44) + self.rng.randint(0, 20))
            if person.res_start <= day <= self.last_day:
                due.append((day, vaccine, dose))
        given = sorted(self.rng.sample(due, min(len(due), self.rng.randint(1, 4))))
        # Decided by a generator of the child's own, not the feed's: this choice takes none of the shared draws. (The
        # health feed after a child on schedule still changes: its later dates depend on the extra doses.)
        if random.Random(f"on-schedule:{person.key}").random() < ON_SCHEDULE:
            given = sorted(due)
        return [self._event("VACCINATION", day, {"vaccine": vaccine, "dose": dose}) for day, vaccine, dose in given]

    def _child_care(self, person: Person) -> list[Event]:
        events = []
        if person.birth >= person.res_start and self.rng.random() < 0.8:
            visit = person.birth + dt.timedelta(days=self.rng.randint(3, 28))
            events.append(self._event("CHILD_CARE", visit, {"stage": "NEWBORN_VISIT"}))
        if self.rng.random() < 0.5:
            events.append(self._event("CHILD_CARE", self._recent_day(person, 365), {"stage": "HEALTH_CHECK"}))
        return events

    def _family_planning(self, person: Person) -> list[Event]:
        if self.rng.random() >= 0.35:
            return []
        service = {"service": self.rng.choice(FAMILY_PLANNING)}
        return [self._event("FAMILY_PLANNING", self._recent_day(person, 365), service)]

    def _maternal_care(self, person: Person, age: int, child_births: list[dt.date]) -> list[Event]:
        """The stages around a child born here in the last two years; or a pregnancy registered lately."""
        recent = [birth for birth in child_births if birth >= person.res_start and (self.now - birth).days < 730]
        if recent:
            birth = max(recent)
            stages = (
                ("EARLY_PREGNANCY_REGISTRATION", -self.rng.randint(220, 250)),
                ("PRENATAL_VISIT", -self.rng.randint(60, 120)),
                ("HOSPITAL_DELIVERY", 0),
                ("POSTPARTUM_VISIT", self.rng.randint(3, 28)),
            )
            return [
                self._event("MATERNAL_CARE", birth + dt.timedelta(days=offset), {"stage": stage})
                for stage, offset in stages
                if self.rng.random() < 0.85
            ]
        if 20 <= age <= 38 and self.rng.random() < 0.02:
            return [self._event("MATERNAL_CARE", self._recent_day(person, 90), {"stage": "EARLY_PREGNANCY_REGISTRATION"})]
        return []

    def _infectious_disease(self, person: Person) -> Event:
        """Reported the day of diagnosis (85%), the next day, or up to a week late."""
        diagnosed = self._recent_day(person, 730)
        delay = self.rng.choices((0, 1, self.rng.randint(2, 6)), (85, 7, 8))[0]
        reported = min(diagnosed + dt.timedelta(days=delay), self.last_day)
        detail = {"disease": self.rng.choice(DISEASES), "diagnosis_date": diagnosed.isoformat(), "report_date": reported.isoformat()}
        return self._event("INFECTIOUS_DISEASE_REPORT", diagnosed, detail, updated=reported)
