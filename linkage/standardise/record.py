"""One department row, its values already named canonically, into a `PersonRecord` or `ServiceEvent`.

Connectors map native columns to canonical names (`RawPerson`); this module standardises each value and
cross-checks what the ID number says (region, birth date, sex) against what the row states. Disagreements are
flags, never corrections: a steward or the linkage model decides which side is right.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from linkage.standardise import codes, idnumber, names, regions
from schemas import dates
from schemas.canonical import SERVICE_TYPES, PersonRecord, ServiceEvent
from schemas.errors import UnusableRecord
from schemas.raw import RawPerson


def standardise_person(raw: RawPerson) -> PersonRecord:
    flags: list[str] = []
    name, name_flags = names.standardise_name(raw.get("name"))
    flags += name_flags
    id_number = idnumber.parse_id_number(raw.get("id_number"))
    flags += id_number.flags
    guardian = idnumber.parse_id_number(raw.get("guardian_id_number"))
    flags += [f"guardian_{flag}" for flag in guardian.flags]
    masked = idnumber.parse_masked_id(raw.get("masked_id"))
    if raw.get("masked_id") is not None and masked is None:
        flags.append("masked_id_malformed")
    birth_date = _read_date(raw.get("birth_date"), "birth_date", flags)
    sex = codes.standardise_sex(raw.get("sex"))
    _flag_unreadable(raw.get("sex"), sex, "sex", flags)
    phone, phone_ok = codes.standardise_phone(raw.get("phone"))
    if phone and not phone_ok:
        flags.append("phone_not_mobile")
    hukou = _hukou_region(raw, flags)
    current = regions.validate_region_code(raw.get("current_district"))
    _flag_unreadable(raw.get("current_district"), current, "current_district", flags)
    if id_number.number:
        flags += _cross_check(id_number, birth_date, sex, hukou)
    if not (name or id_number.number or masked or birth_date or guardian.number):
        raise UnusableRecord("no name, ID number or birth date: nothing to link this record on; ask the department to complete the row")
    birth_year_month = birth_date.strftime("%Y-%m") if birth_date else dates.parse_year_month(raw.get("birth_year_month"))
    return PersonRecord(
        name=name,
        name_pinyin=names.name_pinyin(name),
        id_number=id_number.number,
        id_valid=id_number.valid if id_number.number else None,
        masked_id_region=masked.region if masked else None,
        masked_id_tail=masked.tail if masked else None,
        guardian_id_number=guardian.number,
        birth_date=birth_date,
        birth_year_month=birth_year_month,
        sex=sex,
        ethnicity=codes.standardise_ethnicity(raw.get("ethnicity")),
        phone=phone,
        phone_tail=codes.phone_tail(phone) or _text(raw.get("phone_tail")),
        hukou_region=hukou,
        hukou_address=_text(raw.get("hukou_address")),
        current_district=current,
        current_address=_text(raw.get("current_address")),
        residence_start=_read_date(raw.get("residence_start"), "residence_start", flags),
        permit_number=_text(raw.get("permit_number")),
        registration_cancelled=_flag(raw.get("registration_cancelled")),
        employer=_text(raw.get("employer")),
        insurance_type=_text(raw.get("insurance_type")),
        insurance_status=_text(raw.get("insurance_status")),
        health_record_no=_text(raw.get("health_record_no")),
        health_record_date=_read_date(raw.get("health_record_date"), "health_record_date", flags),
        arrival_year=_integer(raw.get("arrival_year")),
        household_size=_integer(raw.get("household_size")),
        survey_wave=_text(raw.get("survey_wave")),
        source_updated_at=dates.parse_timestamp(raw.get("source_updated_at")),
        quality_flags=tuple(dict.fromkeys(flags)),
    )


def standardise_service(raw: dict[str, Any]) -> ServiceEvent:
    """A health service event; one without a person or with an unknown service type is unusable."""
    person_key = _text(raw.get("person_id"))
    service_type = _text(raw.get("service_type"))
    if not person_key:
        raise UnusableRecord("service event without person_id: it cannot be attributed to anyone")
    if service_type not in SERVICE_TYPES:
        raise UnusableRecord(f"unknown service_type {service_type!r}; expected one of {', '.join(SERVICE_TYPES)}")
    flags: list[str] = []
    district = regions.validate_region_code(raw.get("district_code"))
    _flag_unreadable(raw.get("district_code"), district, "district_code", flags)
    detail_value = raw.get("detail")
    detail: dict[str, object] = detail_value if isinstance(detail_value, dict) else {}
    return ServiceEvent(
        person_key=person_key,
        service_type=service_type,
        service_date=_read_date(raw.get("service_date"), "service_date", flags),
        district_code=district,
        detail=detail,
        source_updated_at=dates.parse_timestamp(raw.get("updated_at")),
        quality_flags=tuple(flags),
    )


def _cross_check(number: idnumber.IdNumber, birth_date: dt.date | None, sex: str | None, hukou: str | None) -> list[str]:
    """Compare what the ID number encodes with what the row states."""
    flags = []
    encoded = number.birth_date
    if birth_date and encoded and birth_date != encoded:
        flags.append("birth_date_day_month_swapped" if dates.swapped_day_month(birth_date) == encoded else "birth_date_differs_from_id")
    if sex in ("1", "2") and sex != number.sex:
        flags.append("sex_differs_from_id")
    if hukou and number.region and hukou[:2] != number.region[:2]:
        flags.append("hukou_province_differs_from_id")
    return flags


def _hukou_region(raw: RawPerson, flags: list[str]) -> str | None:
    code = regions.validate_region_code(raw.get("hukou_region"))
    _flag_unreadable(raw.get("hukou_region"), code, "hukou_region", flags)
    if code is None and raw.get("hukou_place"):
        code = _place_code(str(raw["hukou_place"]))
        if code is None:
            flags.append("hukou_place_unknown")
    return code


@lru_cache(maxsize=50_000)
def _place_code(place: str) -> str | None:
    """A county code for full place text, else a province code for a province name; cached, as places repeat."""
    table = regions.region_table()
    return table.code_for_place(place) or table.province_code(place)


def _read_date(value: Any, name: str, flags: list[str]) -> dt.date | None:
    parsed = dates.parse_date(value)
    _flag_unreadable(value, parsed, name, flags)
    return parsed


def _flag_unreadable(raw: Any, parsed: Any, name: str, flags: list[str]) -> None:
    if parsed is None and raw is not None and str(raw).strip():
        flags.append(f"{name}_unreadable")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _integer(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() else None
    except ValueError:
        return None


def _flag(value: Any) -> bool | None:
    text = _text(value)
    return None if text is None else text in ("1", "true", "True", "Y")
