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

# The survivorship rules' texts (mmi.index.golden: one rule per field), by rule set. A stored lineage names the set its
# values were chosen under rather than spelling each rule out (mmi.index.lineage), so every set ever written stays
# here, unchanged: changing a rule means adding a set and making it CURRENT_RULE_SET (mmi.index.golden refuses to
# load while its rules do not read as the current set).
_IDENTITY = "valid ID first; trust public_security > human_resources > health > statistics; then most recent"
_GENERAL = "trust public_security > human_resources > health > statistics; then most recent"
_CONTACT = "most recent first; trust public_security > human_resources > health > statistics; then most recent"
_RESIDENCE = "trust public_security > health > human_resources > statistics; then most recent"
_EMPLOYMENT = "trust human_resources > public_security > health > statistics; then most recent"
_HEALTH = "trust health > public_security > human_resources > statistics; then most recent"
RULE_SETS: dict[str, dict[str, str]] = {
    "1": {
        "name": _GENERAL,
        "name_pinyin": _GENERAL,
        "id_number": _IDENTITY,
        "birth_date": _IDENTITY,
        "sex": _IDENTITY,
        "ethnicity": _GENERAL,
        "phone": _CONTACT,
        "hukou_region": _GENERAL,
        "current_district": _CONTACT,
        "current_address": _CONTACT,
        "residence_start": _RESIDENCE,
        "permit_number": _RESIDENCE,
        "employer": _EMPLOYMENT,
        "insurance_status": _EMPLOYMENT,
        "health_record_no": _HEALTH,
    },
}
CURRENT_RULE_SET = "1"
