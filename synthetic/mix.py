"""The population mix: how many of the hard cases a generated population holds, so that linkage can be measured
across populations instead of tuned to one.

Shares are of *people* (a twin pair is two people, a namesake group three on average), so "twins 5%" means one
person in twenty is a twin. The defaults are the mix the generator always had. `coverage` scales every
department's coverage (capped at everyone) and `no_id` is the share of records a department writes without the
person's ID number (public security, human resources, health; statistics discloses a masked ID or none anyway).
Noise is not part of the mix: it is `generate_feeds(noise=...)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_FAMILY_SIZE = 1 + 1.45  # a parent and on average 1.45 children (60% one, 35% two, 5% three)
_NAMESAKE_GROUP = 3.0  # two to four people


@dataclass(frozen=True)
class PopulationMix:
    twins: float = 0.0071  # share of people who are one of a pair of twins aged 7–40
    namesakes: float = 0.0095  # share of people in a group with one common full name, one sex, born the same month, one city
    families: float = 0.164  # share of people in a household of a parent and children aged 0–6
    several_children: float = 0.40  # share of those households with two or three children
    no_id: float = 0.0  # share of records written without an ID number
    coverage: float = 1.0  # multiplies every department's coverage

    def __post_init__(self) -> None:
        for name in ("twins", "namesakes", "families", "several_children", "no_id"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"population mix: {name} must be a share between 0 and 1, got {getattr(self, name)}")
        if self.twins + self.namesakes + self.families > 0.9:
            raise ValueError("population mix: twins, namesakes and families together must leave at least 10% single migrants")
        if self.coverage <= 0:
            raise ValueError(f"population mix: coverage must be positive, got {self.coverage}")

    def unit_thresholds(self) -> tuple[float, float, float]:
        """Cumulative probabilities of drawing a family, twins or namesakes as the next unit of people, such that
        each kind's expected share of people is its share in the mix."""
        weights = (self.families / _FAMILY_SIZE, self.twins / 2, self.namesakes / _NAMESAKE_GROUP)
        total = sum(weights) + (1 - self.twins - self.namesakes - self.families)
        family, twins, namesakes = (weight / total for weight in weights)
        return family, family + twins, family + twins + namesakes

    def covered(self, share: float) -> float:
        return min(1.0, share * self.coverage)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> PopulationMix:
        return cls(**(values or {}))


DEFAULT_MIX = PopulationMix()
