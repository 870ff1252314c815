"""Each comparison's levels on small inline pairs, evaluated by DuckDB and by Spark exactly as Splink will (each
engine given the SQL Splink asks the levels for in its dialect); and every level of the model on the pairs of a
generated population, the same on both engines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from linkage import comparisons
from linkage.blocking import BLOCKING_RULES
from linkage.dialects import DIALECTS
from linkage.inputs import LINKAGE_COLUMNS, RECORDS
from linkage.standardise.idnumber import check_character
from linkage.standardise.record import RawPerson, standardise_person
from schemas.canonical import PERSON_FIELDS

COLUMNS = [f for f in PERSON_FIELDS if f not in ("quality_flags", "source_updated_at")] + ["surname", "given_name"]


def person(**raw: Any) -> dict[str, Any]:
    """A record as linkage sees it: standardised from raw values, like ingest does (named 张伟 unless said)."""
    record = standardise_person(RawPerson(**{"name": "张伟", **raw}))
    derived = {
        "surname": record.name[:1] if record.name else None,
        "given_name": record.name[1:] if record.name else None,
    }  # as linkage.inputs
    return {name: derived[name] if name in derived else getattr(record, name) for name in COLUMNS}


LevelOf = Callable[[Any, dict[str, Any], dict[str, Any]], str]  # (comparison, left, right) → the label of its level


def level_case(comparison: Any, dialect: str) -> str:
    """A CASE giving the label of the first level whose SQL (in `dialect`) holds for the pair, as Splink's gamma."""
    levels = comparison.get_comparison(dialect).comparison_levels
    case = " ".join(f"WHEN {lvl.sql_condition} THEN '{lvl.label_for_charts}'" for lvl in levels if lvl.sql_condition != "ELSE")
    return f"CASE {case} ELSE 'all other' END"


def _pair(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}_l": left.get(name) for name in COLUMNS} | {f"{name}_r": right.get(name) for name in COLUMNS}


def duckdb_level(comparison: Any, left: dict[str, Any], right: dict[str, Any]) -> str:
    values = _pair(left, right)
    select = ", ".join(f"${i + 1}::{_type(name)} AS {name}" for i, name in enumerate(values))
    query = f"SELECT {level_case(comparison, 'duckdb')} FROM (SELECT {select})"
    return str(duckdb.connect().execute(query, list(values.values())).fetchone()[0])


def spark_level(spark: Any) -> LevelOf:
    def level(comparison: Any, left: dict[str, Any], right: dict[str, Any]) -> str:
        values = _pair(left, right)
        select = ", ".join(f"CAST(:{name} AS {_type(name).replace('VARCHAR', 'STRING')}) AS {name}" for name in values)
        query = f"SELECT {level_case(comparison, 'spark')} FROM (SELECT {select})"
        return str(
            spark.sql(query, args={name: str(value) if value is not None else None for name, value in values.items()}).collect()[0][0]
        )

    return level


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def level(request: pytest.FixtureRequest) -> LevelOf:
    """The level a pair falls in, evaluated by one engine."""
    return duckdb_level if request.param == "duckdb" else spark_level(request.getfixturevalue("spark"))


def _type(column: str) -> str:
    base = column[:-2]
    if base in ("birth_date", "residence_start", "health_record_date"):
        return "DATE"
    if base in ("id_valid", "registration_cancelled"):
        return "BOOLEAN"
    if base in ("arrival_year", "household_size"):
        return "INTEGER"
    return "VARCHAR"


def an_id(region: str, born: str, sequence: str) -> str:
    return region + born + sequence + check_character(region + born + sequence)


ZHANG_WEI = dict(name="张伟", id_number=an_id("410105", "19900101", "001"), birth_date="1990-01-01", sex="1")


def test_surname_and_given_name_are_exact_and_term_frequency_adjusted_each_on_its_own(level: LevelOf) -> None:
    for comparison, column in ((comparisons.surname_comparison(), "surname"), (comparisons.given_name_comparison(), "given_name")):
        levels = comparison.get_comparison("duckdb").comparison_levels
        assert levels[1].as_dict()["label_for_charts"] == "exact" and levels[1].as_dict()["tf_adjustment_column"] == column
        assert level(comparison, person(name="张伟"), person(name="张 伟")) == "exact"


@pytest.mark.parametrize(
    ("left", "right", "surname", "given"),
    [
        ("张伟", "张玮", "exact", "same pinyin (homophone or variant form)"),  # a homophone joins
        ("陳偉", "陈伟", "exact", "exact"),  # traditional forms are simplified by standardisation
        ("张伟明", "张伟亮", "exact", "one character different"),
        ("张伟明", "张明", "exact", "one character dropped"),
        ("张飞浩", "张飞", "exact", "one character dropped"),
        ("张伟", "李伟", "all other", "exact"),
        ("章伟", "张伟", "same pinyin (homophone or variant form)", "exact"),
        ("欧阳娜娜", "欧阳娜", "exact", "one character dropped"),
        ("张伟", "王芳", "all other", "all other"),
    ],
)
def test_name_levels(left: str, right: str, surname: str, given: str, level: LevelOf) -> None:
    assert level(comparisons.surname_comparison(), person(name=left), person(name=right)) == surname
    assert level(comparisons.given_name_comparison(), person(name=left), person(name=right)) == given


def test_a_missing_name_is_null_not_a_disagreement(level: LevelOf) -> None:
    missing = person(name=None, id_number=ZHANG_WEI["id_number"])
    assert level(comparisons.surname_comparison(), person(name="张伟"), missing) == "null"
    assert level(comparisons.given_name_comparison(), person(name="张伟"), missing) == "null"


def test_id_levels_typo_transposition_and_twins(level: LevelOf) -> None:
    number = ZHANG_WEI["id_number"]
    typo = number[:10] + ("9" if number[10] != "9" else "8") + number[11:]
    swapped = number[:8] + number[9] + number[8] + number[10:]  # the year's last two digits swapped: 1990 → 1909
    twin = an_id("410105", "19900101", "003")  # same region and birth date, next odd sequence: another person
    compare = comparisons.id_number_comparison()
    assert level(compare, person(id_number=number), person(id_number=number.lower())) == "exact"
    assert level(compare, person(id_number=number), person(id_number=typo)) == "one character mistyped"
    assert level(compare, person(id_number=number), person(id_number=swapped)) == "two adjacent characters swapped"
    assert level(compare, person(id_number=number), person(id_number=twin)) == "two different valid numbers"  # twins stay apart
    twin_typo = twin[:3] + ("1" if twin[3] != "1" else "2") + twin[4:]  # the twin's number mistyped: fails its check
    assert level(compare, person(id_number=number), person(id_number=twin_typo)) == "all other"
    levels = {lvl.label_for_charts: lvl for lvl in compare.get_comparison("duckdb").comparison_levels}
    assert levels["two different valid numbers"].m_probability == 1e-5 and levels["all other"].m_probability == 1e-3  # fixed, not learned


def test_a_fifteen_digit_card_meets_its_eighteen_digit_number(level: LevelOf) -> None:
    assert level(comparisons.id_number_comparison(), person(id_number="131026820803340"), person(id_number="131026198208033400")) == "exact"


def test_masked_statistics_id_against_a_full_id(level: LevelOf) -> None:
    full = person(id_number="220113199902090033")
    compare = comparisons.masked_id_comparison()
    assert level(compare, person(masked_id="220113********0033"), full) == "region and last four agree"
    assert level(compare, person(masked_id="220199********0033"), full) == "last four agree"
    assert level(compare, person(masked_id="220113********0099"), full) == "all other"
    assert level(compare, full, full) == "null"  # two full IDs are the ID comparison's business


def test_birth_date_levels(level: LevelOf) -> None:
    compare = comparisons.birth_date_comparison()
    born = person(birth_date="2003-12-07")
    assert level(compare, born, person(birth_date="2003-12-07")) == "exact"
    assert level(compare, born, person(birth_date="2003-07-12")) == "day and month swapped"
    assert level(compare, born, person(birth_year_month="2003-12")) == "same year-month (day unknown)"
    assert level(compare, born, person(birth_date="2003-12-08")) == "one digit off"
    assert level(compare, born, person(birth_date="1990-01-01")) == "all other"
    assert level(compare, born, person(id_number=None)) == "null"


def test_regions_as_a_hierarchy(level: LevelOf) -> None:
    compare = comparisons.region_comparison("hukou_region", "hukou region")
    home = person(hukou_region="410105")
    assert level(compare, home, person(hukou_region="410105")) == "same county"
    assert level(compare, home, person(hukou_region="410102")) == "same prefecture"
    assert level(compare, home, person(hukou_place="河南省")) == "same province"  # statistics: province only
    assert level(compare, person(hukou_place="河南省"), person(hukou_place="河南省")) == "same province"
    assert level(compare, home, person(hukou_region="110101")) == "all other"


def test_phone_sex_and_guardian(level: LevelOf) -> None:
    assert level(comparisons.phone_comparison(), person(phone="13812345678"), person(phone="138 1234 5678")) == "exact"
    assert level(comparisons.phone_comparison(), person(phone="13812345678"), person(phone_tail="5678")) == "last four agree"
    assert level(comparisons.sex_comparison(), person(sex="男"), person(sex="1")) == "same"
    assert level(comparisons.sex_comparison(), person(sex="9"), person(sex="1")) == "null"
    guardian = "410221199612167785"
    child = person(name="陆珠琴", birth_date="2023-07-25", guardian_id_number=guardian)
    assert level(comparisons.guardian_comparison(), child, person(name="陆珠琴", guardian_id_number=guardian)) == "same guardian, same name"
    twin = person(name="陆鑫琴", birth_date="2023-07-25", guardian_id_number=guardian)
    assert level(comparisons.guardian_comparison(), child, twin) == "same guardian, another name (a sibling)"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_comparison_builds_for_both_engines(dialect: str) -> None:
    built = [c.get_comparison(dialect) for c in comparisons.all_comparisons()]
    assert [c.output_column_name for c in built] == [
        "surname",
        "given_name",
        "id_number",
        "masked_id",
        "birth_date",
        "sex",
        "phone",
        "hukou_region",
        "current_district",
        "guardian",
    ]
    assert all(c.comparison_levels[0].is_null_level for c in built)


def test_twins_differ_where_it_counts(level: LevelOf) -> None:
    """Twins share surname, birth date, hukou and address; the comparisons that tell them apart must say so."""
    first = person(name="廖晨阳", id_number=an_id("231282", "20070427", "984"), birth_date="2007-04-27", hukou_region="231282")
    second = person(name="廖娟珠", id_number=an_id("231282", "20070427", "280"), birth_date="2007-04-27", hukou_region="231282")
    assert level(comparisons.birth_date_comparison(), first, second) == "exact"
    assert level(comparisons.given_name_comparison(), first, second) == "all other"
    assert level(comparisons.id_number_comparison(), first, second) == "two different valid numbers"
    assert dt.date(2007, 4, 27) == first["birth_date"]


# The levels whose SQL differs between the engines (linkage.dialects): each must occur among the pairs compared.
DIALECT_SPECIFIC = {
    "given_name": ("same pinyin (homophone or variant form)", "one character different", "one character dropped", "pinyin similar"),
    "id_number": ("one character mistyped", "two adjacent characters swapped"),
    "birth_date": ("one digit off",),
}


@pytest.mark.spark
def test_every_level_is_the_same_on_both_engines_over_a_generated_population(
    linked_inputs: tuple[duckdb.DuckDBPyConnection, Path], spark: Any, tmp_path: Path
) -> None:
    """The blocked pairs of 1,500 generated people at three times the usual errors (matches, near-matches, twins,
    namesakes) and 9,000 random pairs (strangers), compared by DuckDB and by Spark: the same level, pair by pair."""
    duck, _ = linked_inputs
    columns = (*LINKAGE_COLUMNS, "surname", "given_name")
    both = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    blocked = " OR ".join(f"({rule.sql})" for rule in BLOCKING_RULES)
    duck.execute(f"""CREATE OR REPLACE TEMP TABLE compared AS
        SELECT row_number() OVER (ORDER BY unique_id, unique_id_r) AS pair, * FROM (
            SELECT l.unique_id, r.unique_id AS unique_id_r, {both} FROM {RECORDS} l JOIN {RECORDS} r ON l.unique_id < r.unique_id AND ({blocked})
            UNION
            SELECT l.unique_id, r.unique_id, {both}
            FROM (SELECT * FROM {RECORDS} USING SAMPLE 3000 ROWS (reservoir, 1)) l, (SELECT * FROM {RECORDS} USING SAMPLE 3 ROWS (reservoir, 2)) r
        ) l""")
    parquet = tmp_path / "compared.parquet"
    duck.execute(f"COPY compared TO '{parquet}' (FORMAT parquet)")
    built = comparisons.all_comparisons()
    names = [c.get_comparison("duckdb").output_column_name for c in built]
    on_duckdb = duck.execute(f"SELECT pair, {', '.join(level_case(c, 'duckdb') for c in built)} FROM compared ORDER BY pair").fetchall()
    on_spark = [
        tuple(row)
        for row in spark.read.parquet(str(parquet)).selectExpr("pair", *(level_case(c, "spark") for c in built)).orderBy("pair").collect()
    ]
    assert len(on_duckdb) > 10_000 and len(on_spark) == len(on_duckdb)
    for index, name in enumerate(names, start=1):
        differing = [
            (left[0], left[index], right[index]) for left, right in zip(on_duckdb, on_spark, strict=True) if left[index] != right[index]
        ]
        assert not differing, f"{name}: {len(differing)} pairs on another level, e.g. (pair, DuckDB, Spark) {differing[:3]}"
    seen = {name: {row[index] for row in on_duckdb} for index, name in enumerate(names, start=1)}
    for name, labels in DIALECT_SPECIFIC.items():
        assert set(labels) <= seen[name], f"{name}: never saw {set(labels) - seen[name]}"
