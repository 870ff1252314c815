"""The canonical source records: what every department's rows become after standardisation.

This is a contract: the store's columns, the exports and linkage all follow these field lists. A field a
department does not deliver is None. Dates are `datetime.date`; codes are strings. The departments themselves
are declared by their connector folders (connectors.registry).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One department's record of one person, standardised."""

    name: str | None = None  # NFKC, no spaces, simplified characters
    name_pinyin: str | None = None  # toneless, syllables separated by spaces
    id_number: str | None = None  # 18 characters, upper-case X; 15-digit cards upgraded; kept even if invalid
    id_valid: bool | None = None  # check character, birth date and region all good
    masked_id_region: str | None = None  # statistics: region code of the masked ID
    masked_id_tail: str | None = None  # statistics: its last four characters
    guardian_id_number: str | None = None  # health: a child's parent, where the child has no ID
    birth_date: dt.date | None = None
    birth_year_month: str | None = None  # 'YYYY-MM', known for everyone with a birth date or the survey's
    sex: str | None = None  # GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 unstated
    ethnicity: str | None = None  # GB 3304 two-digit code
    phone: str | None = None  # digits only
    phone_tail: str | None = None  # last four digits
    hukou_region: str | None = None  # GB/T 2260 code (county; statistics: province PP0000)
    hukou_address: str | None = None
    current_district: str | None = None  # GB/T 2260 county code where the migrant lives or is insured now
    current_address: str | None = None
    residence_start: dt.date | None = None
    permit_number: str | None = None
    registration_cancelled: bool | None = None  # public security ZXBS = 1
    employer: str | None = None
    insurance_type: str | None = None
    insurance_status: str | None = None
    health_record_no: str | None = None
    health_record_date: dt.date | None = None
    arrival_year: int | None = None
    household_size: int | None = None
    survey_wave: str | None = None
    source_updated_at: dt.datetime | None = None  # the department's own last-change time of the row
    quality_flags: tuple[str, ...] = field(default=())  # what standardisation noticed; see linkage.standardise


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """A basic public service a person received, as the health department reports it."""

    person_key: str  # the health person's source_key
    service_type: str  # one of SERVICE_TYPES
    service_date: dt.date | None = None
    district_code: str | None = None
    detail: dict[str, object] = field(default_factory=dict)
    source_updated_at: dt.datetime | None = None
    quality_flags: tuple[str, ...] = field(default=())


SERVICE_TYPES = (
    "HEALTH_RECORD",
    "HEALTH_EDUCATION",
    "VACCINATION",
    "INFECTIOUS_DISEASE_REPORT",
    "MATERNAL_CARE",
    "CHILD_CARE",
    "FAMILY_PLANNING",
)

PERSON_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PersonRecord))
SERVICE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ServiceEvent))
