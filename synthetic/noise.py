"""The errors real feeds contain (FEEDS.md, "What real feeds contain"), applied one field at a time.

Each kind has a base rate, multiplied by the `level` the caller asks for (0: clean feeds, 1: a few percent of
records touched, 3: three times as many). A kind is counted only when it changed the value, so the counts say
exactly how many fields the linkage has to see through. The person behind a noisy value never changes: noise is
what a department wrote down, not who the person is.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from linkage.standardise.idnumber import to_15
from synthetic.names import HOMOPHONES, TRADITIONAL

# Base probability of each kind, per field it can apply to.
BASE_RATES: dict[str, float] = {
    "name_homophone": 0.015,  # 伟 → 玮: the clerk typed the sound, the IME offered the neighbour
    "name_traditional": 0.01,  # 陈 → 陳
    "name_space": 0.008,  # '莫　伟文', '余 刚新' (ASCII or U+3000), or a dotted name's '·' typed otherwise
    "name_dropped_char": 0.005,  # 李飞浩 → 李浩
    "id_15_digit": 0.04,  # the legacy 15-digit card (public security, born 19xx)
    "id_typo": 0.006,  # one character mistyped
    "id_transposed": 0.004,  # two adjacent digits swapped
    "id_lowercase_x": 0.25,  # check character X typed as x (of the numbers ending in X)
    "date_swapped": 0.015,  # day and month swapped (only possible when both are ≤ 12)
    "phone_stale": 0.04,  # an older number, or someone else's
    "phone_missing": 0.02,
    "hr_date_slash": 0.3,  # HR writes some birth dates as YYYY/M/D
}

_SPACES = (" ", " ", "\u3000")
_DOT_VARIANTS = (".", " ", "", "•")
_CHECK_CHARACTERS = "0123456789X"


class Noise:
    """Draws field errors with one department's random generator and keeps count of what it did."""

    def __init__(self, rng: random.Random, level: float, no_id: float = 0.0) -> None:
        self.rng = rng
        self.rates = {kind: min(1.0, rate * level) for kind, rate in BASE_RATES.items()}
        self.rates["id_missing"] = no_id  # a property of the population mix, not scaled by the noise level
        self.counts: Counter[str] = Counter()

    def _hit(self, kind: str) -> bool:
        return self.rng.random() < self.rates[kind]

    def name(self, surname: str, given: str) -> str:
        """The name as a clerk wrote it; at most the kinds whose dice came up, each counted."""
        rng = self.rng
        if len(given) == 2 and surname and self._hit("name_dropped_char"):
            given = given[rng.randrange(2)]
            self.counts["name_dropped_char"] += 1
        if self._hit("name_homophone"):
            positions = [i for i, char in enumerate(given) if char in HOMOPHONES]
            if positions:
                i = rng.choice(positions)
                given = given[:i] + HOMOPHONES[given[i]] + given[i + 1 :]
                self.counts["name_homophone"] += 1
        name = surname + given
        if self._hit("name_traditional"):
            converted = "".join(TRADITIONAL.get(char, char) for char in name)
            if converted != name:
                name = converted
                self.counts["name_traditional"] += 1
        if self._hit("name_space"):
            name = self._space(name, len(surname))
            self.counts["name_space"] += 1
        return name

    def _space(self, name: str, surname_length: int) -> str:
        if "·" in name:
            return name.replace("·", self.rng.choice(_DOT_VARIANTS))
        cut = surname_length if surname_length and self.rng.random() < 0.8 else self.rng.randrange(1, len(name))
        return name[:cut] + self.rng.choice(_SPACES) + name[cut:]

    def person_id_number(self, number: str, legacy_allowed: bool = False) -> str | None:
        """A person's own ID as a department recorded it: missing (the mix's `no_id` share), or as `id_number`."""
        if self.rates["id_missing"] and self._hit("id_missing"):
            self.counts["id_missing"] += 1
            return None
        return self.id_number(number, legacy_allowed)

    def id_number(self, number: str, legacy_allowed: bool = False) -> str:
        """The ID as recorded: maybe 15-digit, or with one typo or transposition, or a lower-case x."""
        if legacy_allowed and number[6:8] == "19" and self._hit("id_15_digit"):
            self.counts["id_15_digit"] += 1
            return to_15(number)
        if self._hit("id_typo"):
            number = self._typo(number)
            self.counts["id_typo"] += 1
        elif self._hit("id_transposed"):
            swapped = self._transpose(number)
            if swapped != number:
                number = swapped
                self.counts["id_transposed"] += 1
        if number.endswith("X") and self._hit("id_lowercase_x"):
            number = number[:-1] + "x"
            self.counts["id_lowercase_x"] += 1
        return number

    def _typo(self, number: str) -> str:
        """One character replaced by another; MOD 11-2 catches every such error, as it should."""
        i = self.rng.randrange(18)
        choices = (_CHECK_CHARACTERS if i == 17 else _CHECK_CHARACTERS[:10]).replace(number[i], "")
        return number[:i] + self.rng.choice(choices) + number[i + 1 :]

    def _transpose(self, number: str) -> str:
        """Two adjacent, different digits swapped (swapping equal digits would change nothing)."""
        candidates = [i for i in range(17) if number[i] != number[i + 1]]
        if not candidates:
            return number
        i = self.rng.choice(candidates)
        return number[:i] + number[i + 1] + number[i] + number[i + 2 :]

    def birth_date(self, birth: dt.date) -> dt.date:
        """The birth date, with day and month swapped now and then (when that still makes a date)."""
        if birth.day <= 12 and birth.day != birth.month and self._hit("date_swapped"):
            self.counts["date_swapped"] += 1
            return birth.replace(month=birth.day, day=birth.month)
        return birth

    def phone(self, phone: str | None, old_phone: str | None) -> str | None:
        """The phone a department holds: missing, stale (an older or wrong number), or the current one."""
        if phone is None:
            return None
        if self._hit("phone_missing"):
            self.counts["phone_missing"] += 1
            return None
        if self._hit("phone_stale"):
            self.counts["phone_stale"] += 1
            return old_phone or f"1{self.rng.randint(3, 9)}{self.rng.randrange(10**9):09d}"
        return phone

    def hr_date(self, day: dt.date) -> str:
        """HR birth dates: YYYY-MM-DD, or YYYY/M/D from the older branch offices."""
        if self._hit("hr_date_slash"):
            self.counts["hr_date_slash"] += 1
            return f"{day.year}/{day.month}/{day.day}"
        return day.isoformat()
