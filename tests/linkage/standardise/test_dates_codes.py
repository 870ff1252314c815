import datetime as dt

import pytest

from linkage.standardise.codes import phone_tail, standardise_ethnicity, standardise_phone, standardise_sex
from schemas.dates import CHINA_TZ, parse_date, parse_timestamp, parse_year_month, swapped_day_month


@pytest.mark.parametrize(
    "raw", ["19991010", "1999-10-10", "1999/10/10", "1999/10/10", "1999年10月10日", dt.date(1999, 10, 10), "1999-10-10T08:00:00+08:00"]
)
def test_every_feed_date_form_reads(raw: object) -> None:
    assert parse_date(raw) == dt.date(1999, 10, 10)


def test_short_month_and_day() -> None:
    assert parse_date("1987/11/2") == dt.date(1987, 11, 2)


@pytest.mark.parametrize("raw", ["19991340", "1999-02-30", "tomorrow", "", None])
def test_unreadable_dates_are_none(raw: object) -> None:
    assert parse_date(raw) is None


def test_year_month() -> None:
    assert parse_year_month("1999-2") == "1999-02"
    assert parse_year_month("199902") == "1999-02"
    assert parse_year_month("1999-13") is None


def test_naive_timestamps_are_china_time() -> None:
    stamp = parse_timestamp("2016-11-11 16:40:48")
    assert stamp == dt.datetime(2016, 11, 11, 16, 40, 48, tzinfo=CHINA_TZ)
    assert parse_timestamp("2026-09-05T17:23:56+08:00") == dt.datetime(2026, 9, 5, 9, 23, 56, tzinfo=dt.UTC)


def test_day_month_swap() -> None:
    assert swapped_day_month(dt.date(2003, 12, 7)) == dt.date(2003, 7, 12)
    assert swapped_day_month(dt.date(2003, 12, 17)) is None
    assert swapped_day_month(dt.date(2003, 5, 5)) is None


@pytest.mark.parametrize(("raw", "code"), [("1", "1"), ("男", "1"), ("女", "2"), ("FEMALE", "2"), ("9", "9"), ("x", None), (None, None)])
def test_sex_codes(raw: object, code: str | None) -> None:
    assert standardise_sex(raw) == code


def test_ethnicity_codes() -> None:
    assert standardise_ethnicity("1") == "01"
    assert standardise_ethnicity("56") == "56"
    assert standardise_ethnicity("57") is None


def test_phones() -> None:
    assert standardise_phone("+86 138-1234-5678") == ("13812345678", True)
    assert standardise_phone("0371-6688123") == ("03716688123", False)
    assert standardise_phone(None) == (None, False)
    assert phone_tail("13812345678") == "5678"
