import datetime as dt

import pytest

from linkage.standardise.record import RawPerson, UnusableRecord, standardise_person, standardise_service


def test_a_public_security_row_standardises_fully() -> None:
    record = standardise_person(
        RawPerson(
            name="余 刚新",
            sex="1",
            ethnicity="39",
            birth_date="20231221",
            id_number="15082220231221915x",
            hukou_region="150822",
            current_district="430124",
            phone=None,
            residence_start="20251217",
            registration_cancelled="0",
            source_updated_at="2025-12-17 17:18:28",
        )
    )
    assert (record.name, record.name_pinyin) == ("余刚新", "yu gang xin")
    assert record.id_number == "15082220231221915X" and record.id_valid
    assert record.birth_date == dt.date(2023, 12, 21) and record.birth_year_month == "2023-12"
    assert record.registration_cancelled is False
    assert record.source_updated_at is not None and record.source_updated_at.utcoffset() == dt.timedelta(hours=8)
    assert set(record.quality_flags) == {"name_had_spaces", "id_lowercase_x"}


def test_stated_values_are_cross_checked_against_the_id_number() -> None:
    record = standardise_person(
        RawPerson(name="严波", sex="1", birth_date="20041712", id_number="532928200412174769", hukou_region="410108")
    )
    assert "birth_date_unreadable" in record.quality_flags  # 17 is no month
    record = standardise_person(RawPerson(name="严波", sex="1", birth_date="2004-07-12", id_number="532928200412074769"))
    assert "birth_date_day_month_swapped" in record.quality_flags
    assert "sex_differs_from_id" in record.quality_flags  # sequence 476 is even: female
    record = standardise_person(RawPerson(name="严波", birth_date="2003-12-17", id_number="532928200412174769", hukou_region="410108"))
    assert {"birth_date_differs_from_id", "hukou_province_differs_from_id"} <= set(record.quality_flags)


def test_hukou_place_text_becomes_a_code_and_unknown_text_is_flagged() -> None:
    assert standardise_person(RawPerson(name="冯婷", hukou_place="吉林省白山市靖宇县")).hukou_region == "220622"
    assert standardise_person(RawPerson(name="冯婷", hukou_place="吉林省")).hukou_region == "220000"
    record = standardise_person(RawPerson(name="冯婷", hukou_place="某省某市"))
    assert record.hukou_region is None and "hukou_place_unknown" in record.quality_flags


def test_statistics_masked_id_and_phone_tail() -> None:
    record = standardise_person(
        RawPerson(name="戴涛英", masked_id="220113********0033", sex="1", birth_year_month="1999-02", phone_tail="3034")
    )
    assert (record.masked_id_region, record.masked_id_tail, record.birth_year_month, record.phone_tail) == (
        "220113",
        "0033",
        "1999-02",
        "3034",
    )
    assert record.id_number is None and record.id_valid is None


def test_a_child_known_through_a_guardian() -> None:
    record = standardise_person(RawPerson(name="陆珠琴", birth_date="2023-07-25", guardian_id_number="410221199612167785"))
    assert record.guardian_id_number == "410221199612167785" and record.id_number is None


def test_a_row_with_nothing_to_link_on_is_unusable() -> None:
    with pytest.raises(UnusableRecord, match="nothing to link"):
        standardise_person(RawPerson(name="  ", id_number=None, phone="13800000000"))


def test_unreadable_values_are_flagged_and_left_empty() -> None:
    record = standardise_person(RawPerson(name="张伟", sex="?", current_district="12345", residence_start="soon"))
    assert record.sex is None and record.current_district is None and record.residence_start is None
    assert {"sex_unreadable", "current_district_unreadable", "residence_start_unreadable"} <= set(record.quality_flags)


def test_service_events() -> None:
    event = standardise_service(
        {
            "event_id": "EV1",
            "person_id": "JK1",
            "service_type": "VACCINATION",
            "service_date": "2024-05-05",
            "district_code": "520123",
            "detail": {"vaccine": "HepA", "dose": 1},
            "updated_at": "2024-05-05T13:53:09+08:00",
        }
    )
    assert event.service_date == dt.date(2024, 5, 5) and event.detail == {"vaccine": "HepA", "dose": 1}
    with pytest.raises(UnusableRecord, match="unknown service_type"):
        standardise_service({"person_id": "JK1", "service_type": "MASSAGE"})
    with pytest.raises(UnusableRecord, match="without person_id"):
        standardise_service({"service_type": "VACCINATION"})
