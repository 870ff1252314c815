"""Golden records: for each master, each field's value chosen from its source records by a survivorship rule.

A rule orders the candidate values (non-empty values of the field in the master's records) by, in turn:
- validity, where a field has it: an ID number whose check character, date and region are good beats one that
  is not, and the birth date and sex read from a valid ID come with it;
- recency first, for what changes as people move (phone, current district and address): the most recently
  changed source row wins, then department trust;
- department trust order, which says whose register is authoritative for the field (public security for
  identity and residence, human resources for employment, health for the health record);
- recency; then the record key, so that ties always fall the same way.

Each chosen value keeps a pointer to the source record version it came from (the lineage an auditor follows).
The choice runs in DuckDB, one pass over the masters' records, and the result stays there: runs compare golden
records as JSON text in SQL, and only the masters that changed come out to Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from connectors.registry import SOURCES
from schemas.golden import CURRENT_RULE_SET, GOLDEN_FIELDS, RULE_SETS

PS, HR, HEALTH = "public_security", "human_resources", "health"


@dataclass(frozen=True)
class SurvivorshipRule:
    fields: tuple[str, ...]
    first: tuple[str, ...] = ()  # the departments whose register is authoritative for these fields, most trusted first
    valid_first: bool = False
    recent_first: bool = False

    @property
    def trust(self) -> tuple[str, ...]:
        """Every department, most trusted first: the rule's own, then the others by their sources' general trust."""
        others = sorted((source for source in SOURCES if source.department not in self.first), key=lambda source: source.trust)
        return (*self.first, *(source.department for source in others))

    def describe(self) -> str:
        steps = (["valid ID first"] if self.valid_first else []) + (["most recent first"] if self.recent_first else [])
        return "; ".join([*steps, "trust " + " > ".join(self.trust), "then most recent"])


RULES = (  # identity and contact follow the departments' general trust (public security first, statistics last)
    SurvivorshipRule(("id_number", "birth_date", "sex"), valid_first=True),
    SurvivorshipRule(("name", "name_pinyin", "ethnicity", "hukou_region")),
    SurvivorshipRule(("phone", "current_district", "current_address"), recent_first=True),
    SurvivorshipRule(("residence_start", "permit_number"), (PS, HEALTH)),
    SurvivorshipRule(("employer", "insurance_status"), (HR,)),
    SurvivorshipRule(("health_record_no",), (HEALTH,)),
)
RULE_OF = {name: rule for rule in RULES for name in rule.fields}
assert set(RULE_OF) == set(GOLDEN_FIELDS), "every golden field needs exactly one rule"
# Lineage names the rule set, not each rule's text (schemas.lineage): a changed rule needs a new set there.
assert {name: rule.describe() for name, rule in RULE_OF.items()} == RULE_SETS[CURRENT_RULE_SET], (
    "the survivorship rules changed: add their texts as a new rule set in schemas/golden.py and make it CURRENT_RULE_SET"
)


GOLDEN_JSON = "to_json(struct_pack(" + ", ".join(f"{name} := {name}" for name in GOLDEN_FIELDS) + "))"
GOLDEN_TABLE_SQL = (
    "master_id VARCHAR, record_count BIGINT, golden_json VARCHAR, lineage VARCHAR, "
    "name VARCHAR, name_pinyin VARCHAR, id_number VARCHAR, birth_date DATE, sex VARCHAR, ethnicity VARCHAR, "
    "phone VARCHAR, hukou_region VARCHAR, current_district VARCHAR, current_address VARCHAR, residence_start DATE, "
    "permit_number VARCHAR, employer VARCHAR, insurance_status VARCHAR, health_record_no VARCHAR"
)


def stage_golden_records(duck: duckdb.DuckDBPyConnection, inputs: str, assignment: str, into: str) -> None:
    """Table `into` (GOLDEN_TABLE_SQL's columns): the golden record of every master in `assignment`
    (unique_id, master_id), chosen from `inputs` (linkage.inputs' golden inputs). `golden_json` holds the values
    as the events carry them, `lineage` each value's source version and rule set (schemas.lineage, format 2),
    both as JSON text."""
    choices = ",\n".join(_choice_sql(name) for name in GOLDEN_FIELDS)
    pointers = ", ".join(f"{_pointer_sql(name)} AS p_{name}" for name in GOLDEN_FIELDS)
    values = ", ".join(f"{name}.v AS {name}" for name in GOLDEN_FIELDS)
    duck.execute(f"""
        CREATE OR REPLACE TABLE {into} AS
        WITH chosen AS (
            SELECT a.master_id, count(*) AS record_count, {choices}
            FROM {assignment} a JOIN {inputs} g USING (unique_id)
            GROUP BY a.master_id
        ), pointed AS (
            SELECT *, {pointers} FROM chosen
        ), sourced AS (
            SELECT *, list_sort(list_distinct([{", ".join(f"p_{name}" for name in GOLDEN_FIELDS)}])) AS sources FROM pointed
        ), typed AS (SELECT master_id, record_count, {_LINEAGE_SQL} AS lineage, {values} FROM sourced)
        SELECT master_id, record_count, {GOLDEN_JSON} AS golden_json, * EXCLUDE (master_id, record_count) FROM typed
    """)


def _pointer_sql(name: str) -> str:
    """The chosen value's source version, as a struct that sorts by department, key, version, record."""
    return (
        f"CASE WHEN {name} IS NULL THEN NULL ELSE struct_pack(department := {name}.department, source_key := {name}.source_key, "
        f"version := {name}.version, record_id := {name}.record_id) END"
    )


# schemas.lineage's format 2, from `sources` (the distinct pointers, sorted) and each field's pointer `p_<field>`:
# list_distinct drops the NULLs of fields without a value, and list_position finds none for them (NULL).
_LINEAGE_SQL = (
    f"json_object('rules', '{CURRENT_RULE_SET}', "
    "'sources', list_transform(sources, lambda s: json_array(s.department, s.source_key, s.version, s.record_id)), "
    "'fields', json_object(" + ", ".join(f"'{name}', list_position(sources, p_{name}) - 1" for name in GOLDEN_FIELDS) + "))::VARCHAR"
)


def _choice_sql(name: str) -> str:
    rule = RULE_OF[name]
    trust = "CASE g.department " + " ".join(f"WHEN '{department}' THEN {rank}" for rank, department in enumerate(rule.trust)) + " END"
    staleness = "-epoch(coalesce(g.source_updated_at, g.ingested_at))"
    order = (["CASE WHEN g.id_valid THEN 0 ELSE 1 END"] if rule.valid_first else []) + ([staleness] if rule.recent_first else [])
    order += [trust, staleness, "g.unique_id"]
    key = ", ".join(f"k{i} := {expression}" for i, expression in enumerate(order))
    chosen = f"v := g.{name}, department := g.department, source_key := g.source_key, version := g.version, record_id := g.record_id"
    return f"arg_min(struct_pack({chosen}), struct_pack({key})) FILTER (WHERE g.{name} IS NOT NULL) AS {name}"
