"""The comparisons the linkage model makes between two source records, written for these records.

Each function returns a Splink comparison whose levels are DuckDB SQL over the canonical columns of
`schemas.canonical.PersonRecord` (suffixed `_l` and `_r`), most specific level first. Facts that shape them:

- DuckDB's `levenshtein`/`jaro` count UTF-8 bytes (张伟/张玮 are 3 apart), while `length`, `substr` and
  `string_split` count characters. Chinese names are therefore compared as characters and as pinyin (ASCII), never
  with byte edit distances.
- Each level is written once, as a function of the dialect's fragments (linkage.dialects): Splink asks a level for
  its SQL in the linker's dialect, so the same comparisons run on DuckDB and on Spark.
- GB 11643's MOD 11-2 check catches every single wrong digit and almost every adjacent transposition, so two
  numbers one typo or one swap apart cannot both be valid: such a pair is one person's number mistyped, not two
  people (twins differ in the sequence *and* the check character).
- The statistics bureau discloses only a masked ID (region + last four) and the birth year-month.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

from linkage.dialects import Sql

Condition = str | Callable[[Sql], str]  # the same SQL in every dialect, or made from the dialect's fragments


class _Level(ComparisonLevelCreator):
    """A level whose SQL Splink asks for in the linker's dialect."""

    def __init__(self, condition: Condition, label: str) -> None:
        self.condition, self.label = condition, label

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        return self.condition if isinstance(self.condition, str) else self.condition(Sql(sql_dialect.sql_dialect_str))  # type: ignore[arg-type]

    def create_label_for_charts(self) -> str:
        return self.label


def _level(condition: Condition, label: str, **options: Any) -> ComparisonLevelCreator:
    return _Level(condition, label).configure(**options) if options else _Level(condition, label)


def _null(condition: Condition) -> ComparisonLevelCreator:
    return _level(condition, "null", is_null_level=True)


_ELSE = _level("ELSE", "all other")


def _guarded(guard: str, costly: str) -> str:
    """`guard AND costly`, with `costly` evaluated only where `guard` holds: DuckDB evaluates both sides of a plain
    AND over a whole vector, and list functions on every pair cost ten times the rest of a comparison."""
    return f"CASE WHEN {guard} THEN ({costly}) ELSE false END"


def _comparison(
    column: str, description: str, null_when: str, *levels: ComparisonLevelCreator, otherwise: ComparisonLevelCreator = _ELSE
) -> ComparisonCreator:
    """A comparison: its null level (`null_when` holds: no evidence either way), its levels, and "all other"."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=description,
        comparison_levels=[_null(null_when), *levels, otherwise],
    )


# linkage.inputs derives `surname` (the first character) and `given_name` (the rest): term-frequency adjustment
# needs real columns, and Splink recognises an exact level by `col_l = col_r`.
_SURNAME = "surname_{s}"
_GIVEN = "given_name_{s}"


_SPACE = "' '"


def _given_pinyin(sql: Sql, side: str) -> str:
    column = f"name_pinyin_{side}"
    return f"substr({column}, {sql.position(column, _SPACE)} + 1)"


def surname_comparison() -> ComparisonCreator:
    """The surname (the name's first character), term-frequency adjusted on its own: 王 agrees less than 欧."""
    left, right = _SURNAME.format(s="l"), _SURNAME.format(s="r")
    return _comparison(
        "surname",
        "surname: exact, same pinyin",
        "coalesce(given_name_l, '') = '' OR coalesce(given_name_r, '') = ''",
        _level(f"{left} = {right}", "exact", tf_adjustment_column="surname", tf_adjustment_weight=1.0),
        _level("split_part(name_pinyin_l, ' ', 1) = split_part(name_pinyin_r, ' ', 1)", "same pinyin (homophone or variant form)"),
    )


def given_name_comparison() -> ComparisonCreator:
    """The given name (after the first character) as written, term-frequency adjusted apart from the surname (秀红 is
    common, 翠花 is not), as sounded, by characters. Twins differ here; namesakes do not."""
    left, right = _GIVEN.format(s="l"), _GIVEN.format(s="r")

    # Cheap necessary conditions guard the costly list work (`_guarded`): most pairs scored, and all of those sampled
    # for u, are strangers. One character apart (or dropped) in a given name leaves its first or last one equal.
    def one_char_differs(sql: Sql) -> str:
        return _guarded(
            f"length({left}) = length({right}) AND length({left}) >= 2 AND "
            f"(substr({left}, 1, 1) = substr({right}, 1, 1) OR right({left}, 1) = right({right}, 1))",
            f"{sql.differing_characters(left, right)} = 1",
        )

    def one_char_dropped(sql: Sql) -> str:
        return _guarded(
            f"abs(length({left}) - length({right})) = 1 AND "
            f"(substr({left}, 1, 1) = substr({right}, 1, 1) OR right({left}, 1) = right({right}, 1))",
            f"{sql.has_all_characters(left, right)} OR {sql.has_all_characters(right, left)}",
        )

    return _comparison(
        "given_name",
        "given name: exact, same pinyin, one character different or dropped, similar pinyin",
        "coalesce(given_name_l, '') = '' OR coalesce(given_name_r, '') = ''",
        _level(f"{left} = {right}", "exact", tf_adjustment_column="given_name", tf_adjustment_weight=1.0),
        _level(lambda sql: f"{_given_pinyin(sql, 'l')} = {_given_pinyin(sql, 'r')}", "same pinyin (homophone or variant form)"),
        _level(lambda sql: f"({one_char_differs(sql)})", "one character different"),
        _level(lambda sql: f"({one_char_dropped(sql)})", "one character dropped"),
        _level(lambda sql: f"{sql.jaro_winkler('name_pinyin_l', 'name_pinyin_r')} >= 0.9", "pinyin similar"),
    )


def id_number_comparison() -> ComparisonCreator:
    """ID numbers: equal, one character mistyped, two adjacent characters swapped, both valid and different, or
    different. Two valid numbers that differ are two people (linkage.conflicts): no training block can teach how
    often a true match shows that (EM learns twins and namesakes as matches that "differ in the ID"), so its m is
    fixed at what it is, next to nothing (a re-issued number, a registry error)."""
    return _comparison(
        "id_number",
        "ID number: exact, one mistyped character, one adjacent transposition, two different valid numbers",
        "id_number_l IS NULL OR id_number_r IS NULL",
        _level("id_number_l = id_number_r", "exact"),
        _level(lambda sql: _guarded(f"({_id_parts_agreeing(sql)}) >= 2", f"{_id_hamming(sql)} = 1"), "one character mistyped"),
        _level(
            lambda sql: _guarded(
                f"({_id_parts_agreeing(sql)}) >= 1",
                f"{_id_hamming(sql)} = 2 AND {sql.damerau_levenshtein('id_number_l', 'id_number_r')} = 1",
            ),
            "two adjacent characters swapped",
        ),
        _level("coalesce(id_valid_l AND id_valid_r, false)", "two different valid numbers", m_probability=1e-5, fix_m_probability=True),
        # The rest (one number fails its check and is more than one typo from the other) is fixed as well: the block
        # that trains the ID levels (same pinyin and birth month) is where twins and namesakes are, and EM counts
        # them as matches with "another number" (m 0.01 to 0.04). A true pair shows it only when both records carry
        # a typo (about 4e-5 at noise x1, 3e-4 at x3), or a number mistyped twice: 1e-3 leaves room for both.
        otherwise=_level("ELSE", "all other", m_probability=1e-3, fix_m_probability=True),
    )


# Necessary conditions, cheaper than the distances they guard: one mistyped character leaves two of the ID's
# three parts (region, birth date, sequence and check) intact; a swap, even across two parts, leaves one.
def _id_parts_agreeing(sql: Sql) -> str:
    return " + ".join(sql.as_int(f"substr(id_number_l, {start}, {n}) = substr(id_number_r, {start}, {n})") for start, n in _ID_PARTS)


_ID_PARTS = ((1, 6), (7, 8), (15, 4))


def _id_hamming(sql: Sql) -> str:
    return sql.hamming("id_number_l", "id_number_r")


def masked_id_comparison() -> ComparisonCreator:
    """The statistics masked ID (region + last four) against another masked ID or a full ID's same parts."""
    region = "coalesce(masked_id_region_{s}, substr(id_number_{s}, 1, 6))"
    tail = "coalesce(masked_id_tail_{s}, substr(id_number_{s}, 15, 4))"
    applies = (
        "(masked_id_region_l IS NOT NULL OR masked_id_region_r IS NOT NULL) AND "
        f"{region.format(s='l')} IS NOT NULL AND {region.format(s='r')} IS NOT NULL"
    )
    return _comparison(
        "masked_id",
        "masked ID: region and last four agree, last four agree",
        f"NOT ({applies})",
        _level(
            f"{region.format(s='l')} = {region.format(s='r')} AND {tail.format(s='l')} = {tail.format(s='r')}",
            "region and last four agree",
        ),
        _level(f"{tail.format(s='l')} = {tail.format(s='r')}", "last four agree"),
    )


def birth_date_comparison() -> ComparisonCreator:
    """Birth dates, with day and month swapped, one digit off, and year-month only (statistics)."""
    return _comparison(
        "birth_date",
        "birth date: exact, day/month swapped, same year-month, one digit off",
        "birth_year_month_l IS NULL OR birth_year_month_r IS NULL",
        _level("birth_date_l = birth_date_r", "exact"),
        _level(
            "year(birth_date_l) = year(birth_date_r) AND month(birth_date_l) = day(birth_date_r) "
            "AND day(birth_date_l) = month(birth_date_r)",
            "day and month swapped",
        ),
        _level(
            "(birth_date_l IS NULL OR birth_date_r IS NULL) AND birth_year_month_l = birth_year_month_r",
            "same year-month (day unknown)",
        ),
        # One digit off leaves two of year, month and day equal: checked first, it spares most pairs the strings.
        _level(
            lambda sql: _guarded(
                " + ".join(sql.as_int(f"{part}(birth_date_l) = {part}(birth_date_r)") for part in ("year", "month", "day")) + " >= 2",
                f"levenshtein({sql.compact_date('birth_date_l')}, {sql.compact_date('birth_date_r')}) = 1",
            ),
            "one digit off",
        ),
    )


def region_comparison(column: str, description: str) -> ComparisonCreator:
    """A GB/T 2260 code as a hierarchy: county, prefecture (first four digits), province (first two)."""
    left, right = f"{column}_l", f"{column}_r"
    return _comparison(
        column,
        f"{description}: same county, same prefecture, same province",
        f"{left} IS NULL OR {right} IS NULL",
        _level(f"{left} = {right} AND right({left}, 2) <> '00'", "same county"),
        _level(f"substr({left}, 1, 4) = substr({right}, 1, 4) AND substr({left}, 3, 2) <> '00'", "same prefecture"),
        _level(f"substr({left}, 1, 2) = substr({right}, 1, 2)", "same province"),
    )


def phone_comparison() -> ComparisonCreator:
    """Phones: the whole number, or only the last four digits (all the statistics bureau gives)."""
    return _comparison(
        "phone",
        "phone: exact, last four digits",
        "phone_tail_l IS NULL OR phone_tail_r IS NULL",
        _level("phone_l = phone_r", "exact"),
        _level("phone_tail_l = phone_tail_r", "last four agree"),
    )


def sex_comparison() -> ComparisonCreator:
    return _comparison(
        "sex",
        "sex: same code",
        "sex_l IS NULL OR sex_r IS NULL OR sex_l NOT IN ('1', '2') OR sex_r NOT IN ('1', '2')",
        _level("sex_l = sex_r", "same"),
    )


def guardian_comparison() -> ComparisonCreator:
    """A child known only through a guardian's ID. The same guardian means the same family, not the same child:
    with the same name it is the child again; with another name it is a sibling (twins share guardian, birth
    date and address), which must count against a match, not for it."""
    same_guardian = "guardian_id_number_l = guardian_id_number_r"
    return _comparison(
        "guardian",
        "guardian ID: same guardian and name, same guardian and another name (a sibling)",
        "guardian_id_number_l IS NULL OR guardian_id_number_r IS NULL",
        _level(f"{same_guardian} AND name_pinyin_l = name_pinyin_r", "same guardian, same name"),
        # Fixed, not learned: no training block yields enough true matches here (only the health feed carries a
        # guardian, once per child), and a true match almost never shows its guardian with another name. u is fixed
        # too: among random pairs a shared guardian is all but absent (u ~ 1e-7 would make this level evidence *for*
        # a match), yet siblings also agree on birth date (twins), address and district, which the other
        # comparisons count as independent evidence. A Bayes factor of 1/1000 undoes that agreement.
        _level(
            same_guardian,
            "same guardian, another name (a sibling)",
            m_probability=1e-4,
            fix_m_probability=True,
            u_probability=0.1,
            fix_u_probability=True,
        ),
    )


def all_comparisons() -> list[ComparisonCreator]:
    """Every comparison of the model, in the order its charts show them."""
    return [
        surname_comparison(),
        given_name_comparison(),
        id_number_comparison(),
        masked_id_comparison(),
        birth_date_comparison(),
        sex_comparison(),
        phone_comparison(),
        region_comparison("hukou_region", "hukou region"),
        region_comparison("current_district", "current district"),
        guardian_comparison(),
    ]
