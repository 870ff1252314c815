"""Stored lineage (schemas.lineage): format 2 as linkage writes it now, format 1 as stores linked before hold it,
both read into the same sources."""

from __future__ import annotations

import json

import pytest

from schemas.errors import MMIError
from schemas.golden import CURRENT_RULE_SET, GOLDEN_FIELDS, RULE_SETS
from schemas.lineage import Source, compact_lineage, field_sources

POLICE = ("public_security", "GA1", 2, 17)
HEALTH = ("health", "卫1", 1, 5)
CHOSEN = {name: POLICE for name in GOLDEN_FIELDS} | {"health_record_no": HEALTH, "phone": HEALTH, "employer": None}
RULES = RULE_SETS[CURRENT_RULE_SET]


def test_format_2_names_each_source_once_and_reads_back_with_each_fields_rule() -> None:
    text = compact_lineage(CHOSEN)
    assert json.loads(text)["sources"] == [list(HEALTH), list(POLICE)]  # sorted, each once
    read = field_sources(text)
    assert list(read) == list(GOLDEN_FIELDS)
    assert read["name"] == Source(*POLICE, RULES["name"])
    assert read["phone"] == Source(*HEALTH, RULES["phone"]) and read["phone"].rule != read["name"].rule
    assert read["employer"] is None


def test_format_1_reads_as_before_and_both_formats_give_the_same_sources() -> None:
    spelt_out = {
        name: None
        if source is None
        else dict(zip(("department", "source_key", "version", "record_id"), source, strict=True)) | {"rule": RULES[name]}
        for name, source in CHOSEN.items()
    }
    assert field_sources(json.dumps(spelt_out, ensure_ascii=False)) == field_sources(compact_lineage(CHOSEN))


def test_only_the_fields_asked_for_and_an_entry_of_the_wrong_shape_as_none() -> None:
    assert field_sources(compact_lineage(CHOSEN), ["phone", "sex"]) == {
        "phone": Source(*HEALTH, RULES["phone"]),
        "sex": Source(*POLICE, RULES["sex"]),
    }
    loose = json.dumps({"name": "not a source", "sex": {"department": "statistics", "version": "2", "extra": 1}})
    assert field_sources(loose) == {"name": None, "sex": Source(department="statistics", version="2")}  # type: ignore[arg-type]
    assert field_sources("{}") == {}


def test_a_rule_set_this_version_does_not_know_is_refused_by_name() -> None:
    text = compact_lineage(CHOSEN, rules="99")
    with pytest.raises(MMIError, match="rule set '99'"):
        field_sources(text)
