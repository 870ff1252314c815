"""The golden field list is one contract: the change-set schema's Person record, the index's table, the rules."""

from __future__ import annotations

from schemas.changeset import latest_version, shareable_fields, versions
from schemas.golden import GOLDEN_FIELDS


def test_the_avro_person_record_has_exactly_the_golden_fields_in_order() -> None:
    assert shareable_fields(latest_version()) == GOLDEN_FIELDS


def test_every_schema_version_carries_only_golden_fields() -> None:
    for version in versions():
        assert set(shareable_fields(version)) <= set(GOLDEN_FIELDS), version


def test_the_master_record_table_and_the_survivorship_rules_cover_every_golden_field() -> None:
    from mmi.index.golden import RULE_OF
    from mmi.store.index_tables import master_record

    assert set(GOLDEN_FIELDS) <= set(master_record.c.keys())
    assert set(RULE_OF) == set(GOLDEN_FIELDS)
