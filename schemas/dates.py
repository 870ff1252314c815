"""Dates and times in every form the feeds use.

Public security writes `YYYYMMDD`, human resources `YYYY-MM-DD` or `YYYY/M/D`, statistics an Avro date or
`YYYY-MM`, health ISO-8601 dates and zoned timestamps. A date that cannot be read is returned as None and
flagged; the raw value stays in the record's payload.
"""

from __future__ import annotations

import datetime as dt
import re

_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SEPARATED = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})月?$")

# China Standard Time: naive department timestamps (GXSJ) are local time in Beijing.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def parse_date(raw: object) -> dt.date | None:
    """A calendar date from any feed form, or None."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    match = _COMPACT.match(text) or _SEPARATED.match(text)
    if not match:
        if "T" in text or " " in text:  # a timestamp where a date was expected
            stamp = parse_timestamp(text)
            return stamp.date() if stamp else None
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_year_month(raw: object) -> str | None:
    """'1999-02', '199902', '1999/2' → '1999-02'."""
    if raw is None:
        return None
    match = _YEAR_MONTH.match(str(raw).strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def parse_timestamp(raw: object) -> dt.datetime | None:
    """A timezone-aware timestamp; naive values are taken as China Standard Time."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        stamp = raw
    else:
        text = str(raw).strip().replace("Z", "+00:00")
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            day = parse_date(text)
            if day is None:
                return None
            stamp = dt.datetime(day.year, day.month, day.day)
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=CHINA_TZ)
    try:
        stamp.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01 in China: before the first instant a datetime holds in UTC
        return None
    return stamp


def swapped_day_month(day: dt.date) -> dt.date | None:
    """The date with day and month exchanged, when that is a date too (3 April ↔ 4 March)."""
    if day.day > 12 or day.day == day.month:
        return None
    return dt.date(day.year, day.day, day.month)
