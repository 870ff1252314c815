"""Small coded values: sex (GB/T 2261.1), ethnicity (GB 3304), phone numbers."""

from __future__ import annotations

import re
import unicodedata

# GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 unstated. Departments also write words or English enums.
_SEX = {
    "1": "1",
    "2": "2",
    "0": "0",
    "9": "9",
    "男": "1",
    "女": "2",
    "男性": "1",
    "女性": "2",
    "未知": "0",
    "未说明": "9",
    "M": "1",
    "F": "2",
    "MALE": "1",
    "FEMALE": "2",
}
_NON_DIGITS = re.compile(r"\D")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def standardise_sex(raw: object) -> str | None:
    """A GB/T 2261.1 code, or None when the value is none of the known spellings."""
    if raw is None:
        return None
    return _SEX.get(unicodedata.normalize("NFKC", str(raw)).strip().upper())


def standardise_ethnicity(raw: object) -> str | None:
    """A two-digit GB 3304 code 01..56 (97 other, 98 foreign-born), or None."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text.isdigit():
        return None
    code = f"{int(text):02d}"
    return code if 1 <= int(code) <= 56 or code in ("97", "98") else None


def standardise_phone(raw: object) -> tuple[str | None, bool]:
    """Digits only, country code removed; and whether it is a well-formed mainland mobile number."""
    if raw is None:
        return None, False
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", str(raw)))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits:
        return None, False
    return digits, bool(_MOBILE.match(digits))


def phone_tail(phone: str | None) -> str | None:
    """The last four digits: all the statistics bureau discloses, and so what every record is compared on."""
    return phone[-4:] if phone and len(phone) >= 4 else None
