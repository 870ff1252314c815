"""What every department writer is given, and the small helpers they share.

Each department draws from its own random generator, derived from the seed and the department's name: adding a
field to one feed then does not change every other feed, and the output stays byte-identical for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from synthetic.ledger import Ledger
from synthetic.mix import DEFAULT_MIX, PopulationMix
from synthetic.noise import Noise
from synthetic.population import TODAY, Person

CORRUPTION_RATE = 0.002  # per corruption kind and row, times the noise level
CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass
class FeedContext:
    out_dir: Path
    people: list[Person]
    seed: int
    noise_level: float
    ledger: Ledger
    noise_counts: dict[str, Counter[str]] = field(default_factory=dict)  # department → kind → fields touched
    now: dt.date = TODAY  # the day the departments deliver: nothing in the feeds happens on or after it
    mix: PopulationMix = DEFAULT_MIX  # coverage and records without an ID, beside the population's own mix

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}/{name}")

    def noise(self, department: str, rng: random.Random) -> Noise:
        """A Noise drawing from `rng`, whose counts are reported under `department`."""
        noise = Noise(rng, self.noise_level, no_id=self.mix.no_id)
        self.noise_counts[department] = noise.counts
        return noise

    def person(self, index: int) -> Person:
        return self.people[index - self.people[0].index]

    def corrupt_rows(self, rng: random.Random, rows: int, kinds: tuple[str, ...]) -> dict[int, str]:
        """Which rows (by position) get which structural corruption: ~0.2% × noise each, at least one of each
        kind once there are 50 people and any noise, so that every kind is exercised even in small runs."""
        if self.noise_level <= 0 or rows == 0:
            return {}
        least = 1 if len(self.people) >= 50 else 0
        each = max(round(rows * CORRUPTION_RATE * self.noise_level), least)
        chosen = rng.sample(range(rows), min(each * len(kinds), rows))
        return {row: kinds[i % len(kinds)] for i, row in enumerate(chosen)}


def shuffled(rng: random.Random, people: list[Person]) -> list[Person]:
    """People in random order: source keys are numbered in this order, so they say nothing about the truth."""
    order = list(people)
    rng.shuffle(order)
    return order


def office_time(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment of a working day (08:00–17:59), when clerks enter records."""
    return dt.datetime(day.year, day.month, day.day, 8) + dt.timedelta(seconds=rng.randrange(10 * 3600))


def random_day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A day between `first` and `last` inclusive (`first` when the span is empty)."""
    span = (last - first).days
    return first + dt.timedelta(days=rng.randint(0, span)) if span > 0 else first


def iso_china(moment: dt.datetime) -> str:
    """'2026-09-05T17:23:56+08:00', as the health platform writes timestamps."""
    return moment.replace(tzinfo=CHINA).isoformat()
