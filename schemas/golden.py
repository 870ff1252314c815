"""The golden record's fields: what the index keeps for each master, the events carry and subscriptions choose from.

This is a contract three places follow: the master_record table's columns (mmi.store.index_tables), the
survivorship rules (mmi.index.golden: one rule per field) and the Person record of the change-set schema
(schemas/changeset/v*.avsc), whose field list must be this one in this order (tests/schemas checks it).
"""

from __future__ import annotations

GOLDEN_FIELDS: tuple[str, ...] = (
    "name",
    "name_pinyin",
    "id_number",
    "birth_date",
    "sex",
    "ethnicity",
    "phone",
    "hukou_region",
    "current_district",
    "current_address",
    "residence_start",
    "permit_number",
    "employer",
    "insurance_status",
    "health_record_no",
)
