"""The raw record: a department's row with canonical field names and its values untouched, as connectors produce it.

Connectors map native columns to these names (`to_raw_person`); standardisation (linkage.standardise.record) turns
the values into a `schemas.canonical.PersonRecord`. A field the department does not deliver is absent.
"""

from __future__ import annotations

from typing import Any, TypedDict


class RawPerson(TypedDict, total=False):
    """A department's row with canonical field names and raw values, as connectors produce it."""

    name: Any
    id_number: Any
    masked_id: Any
    guardian_id_number: Any
    birth_date: Any
    birth_year_month: Any
    sex: Any
    ethnicity: Any
    phone: Any
    phone_tail: Any
    hukou_region: Any
    hukou_place: Any  # text (province + prefecture + county), mapped to a code when no code is given
    hukou_address: Any
    current_district: Any
    current_address: Any
    residence_start: Any
    permit_number: Any
    registration_cancelled: Any
    employer: Any
    insurance_type: Any
    insurance_status: Any
    health_record_no: Any
    health_record_date: Any
    arrival_year: Any
    household_size: Any
    survey_wave: Any
    source_updated_at: Any
