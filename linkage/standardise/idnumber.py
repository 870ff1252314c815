"""Citizen ID numbers (GB 11643-1999): normalise, upgrade, check, and read what the number says.

An 18-character number is region (6) + birth date (8) + sequence (3, odd for men) + check character
(ISO 7064 MOD 11-2). A 15-digit card is region + YYMMDD (19YY) + sequence, with no check character; it upgrades
to 18 by inserting "19" and computing the check character.

A failed check says "typo", not "another person": the number is kept, flagged, and left for linkage to weigh.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from linkage.standardise.regions import region_table

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE_18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE_15 = re.compile(r"^\d{15}$")
_EARLIEST_BIRTH = dt.date(1880, 1, 1)
_SHAPE_MASKED = re.compile(r"^(\d{6})\*{8}(\d{3}[\dX])$")

# Quality flags, as stored with the record. Each names a fact a steward can check against the source row.
ID_MALFORMED = "id_malformed"
ID_UPGRADED_FROM_15 = "id_upgraded_from_15"
ID_LOWERCASE_X = "id_lowercase_x"
ID_CHECK_FAILED = "id_check_failed"
ID_BIRTH_DATE_INVALID = "id_birth_date_invalid"
ID_REGION_UNKNOWN = "id_region_unknown"


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def upgrade_15_to_18(number15: str) -> str:
    """A 15-digit card number as its 18-character form (born 19YY)."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def to_15(number18: str) -> str:
    """The legacy 15-digit form of an 18-digit number born in the 1900s (used by the feed generator)."""
    return number18[:6] + number18[8:17]


@dataclass(frozen=True)
class IdNumber:
    """A normalised ID number and what it says. `number` is None only when nothing usable was given."""

    number: str | None
    valid: bool = False
    flags: tuple[str, ...] = field(default=())

    @property
    def region(self) -> str | None:
        return self.number[:6] if self.number else None

    @property
    def birth_date(self) -> dt.date | None:
        return _birth_date(self.number) if self.number else None

    @property
    def sex(self) -> str | None:
        """GB/T 2261.1 code: '1' male (odd sequence), '2' female (even)."""
        if not self.number:
            return None
        return "1" if int(self.number[16]) % 2 else "2"


def parse_id_number(raw: object) -> IdNumber:
    """Normalise a raw ID number: NFKC, no spaces, upper-case X, 15 → 18; then check it.

    Returns the number even when it fails its check (flagged), so that linkage can still use 17 good digits.
    """
    if raw is None:
        return IdNumber(None)
    text = "".join(unicodedata.normalize("NFKC", str(raw)).split())
    if not text:
        return IdNumber(None)
    flags: list[str] = []
    if text.endswith("x"):
        flags.append(ID_LOWERCASE_X)
    text = text.upper()
    if _SHAPE_15.match(text):
        text = upgrade_15_to_18(text)
        flags.append(ID_UPGRADED_FROM_15)
    if not _SHAPE_18.match(text):
        return IdNumber(None, False, (*flags, ID_MALFORMED))
    if check_character(text[:17]) != text[17]:
        flags.append(ID_CHECK_FAILED)
    if _birth_date(text) is None:
        flags.append(ID_BIRTH_DATE_INVALID)
    if not region_table().is_known(text[:6]):
        flags.append(ID_REGION_UNKNOWN)
    valid = not ({ID_CHECK_FAILED, ID_BIRTH_DATE_INVALID, ID_REGION_UNKNOWN} & set(flags))
    return IdNumber(text, valid, tuple(flags))


@dataclass(frozen=True)
class MaskedId:
    """The statistics bureau's masked ID: region code and the last four characters, the middle starred."""

    region: str
    tail: str


def parse_masked_id(raw: object) -> MaskedId | None:
    """410105********123X → MaskedId('410105', '123X'); anything else → None."""
    if raw is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(raw)).split()).upper()
    match = _SHAPE_MASKED.match(text)
    return MaskedId(match.group(1), match.group(2)) if match else None


def _birth_date(number: str) -> dt.date | None:
    """The birth date the number encodes, or None when it is no date or no plausible birth (a typo in the year)."""
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if _EARLIEST_BIRTH <= born <= dt.date.today() else None
