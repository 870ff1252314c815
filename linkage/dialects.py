"""The SQL the comparisons need that DuckDB and Spark spell differently: the one place a dialect is chosen.

The comparisons (linkage.comparisons) are written once over these fragments; each engine gets the same levels in
its own SQL, and tests/linkage/test_comparisons.py shows that both give every pair the same level. Where the engines
agree on a function (`substr`, `length`, `right`, `split_part`, `levenshtein` on ASCII), the comparisons use it as
it is. Both engines' `length` and `substr` count characters; DuckDB's edit distances count UTF-8 bytes, Spark's
count UTF-16 units, which is why no edit distance is ever taken over Chinese text. Jaro-Winkler and
Damerau-Levenshtein are Splink's own (DuckDB's built-ins, Splink's similarity JAR on Spark), named by its dialects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from splink.internals.dialects import SplinkDialect

Dialect = Literal["duckdb", "spark"]
DUCKDB: Dialect = "duckdb"
SPARK: Dialect = "spark"
DIALECTS: tuple[Dialect, ...] = (DUCKDB, SPARK)


@dataclass(frozen=True)
class Sql:
    """The fragments of one dialect. DuckDB's are the SQL the model has always had, character for character."""

    dialect: Dialect

    @property
    def _splink(self) -> SplinkDialect:
        return SplinkDialect.from_string(self.dialect)

    def as_int(self, condition: str) -> str:
        return f"({condition})::INT" if self.dialect == DUCKDB else f"CAST(({condition}) AS INT)"

    def position(self, text: str, search: str) -> str:
        """Where `search` first occurs in `text` (1-based, 0 if absent)."""
        return f"strpos({text}, {search})" if self.dialect == DUCKDB else f"instr({text}, {search})"

    def differing_characters(self, left: str, right: str) -> str:
        """How many of the positions 1..length(left) hold different characters in `left` and `right`."""
        if self.dialect == DUCKDB:
            return f"len(list_filter(range(1, length({left}) + 1), lambda i: substr({left}, i, 1) <> substr({right}, i, 1)))"
        return f"size(filter(sequence(1, length({left})), i -> substr({left}, i, 1) <> substr({right}, i, 1)))"

    def has_all_characters(self, text: str, of: str) -> str:
        """Every character of `of` occurs in `text` (as sets: repeats count once)."""
        if self.dialect == DUCKDB:
            return f"list_has_all(string_split({text}, ''), string_split({of}, ''))"
        return f"size(array_except(split({of}, ''), split({text}, ''))) = 0"

    def hamming(self, left: str, right: str) -> str:
        """Positions at which two strings of the same length differ (ID numbers, always 18 characters here)."""
        return f"hamming({left}, {right})" if self.dialect == DUCKDB else self.differing_characters(left, right)

    def damerau_levenshtein(self, left: str, right: str) -> str:
        return f"{self._splink.damerau_levenshtein_function_name}({left}, {right})"

    def jaro_winkler(self, left: str, right: str) -> str:
        """DuckDB's Jaro-Winkler. On Spark, the same computation in SQL: Splink's JAR follows the textbook, which
        halves the transpositions exactly (wang hong yan / wang na fang: 0.8905), where DuckDB halves them
        rounding down (0.9005): a pair either side of the model's 0.9 would fall in another level."""
        if self.dialect == DUCKDB:
            return f"{self._splink.jaro_winkler_function_name}({left}, {right})"
        return _spark_jaro_winkler(left, right)

    def compact_date(self, date: str) -> str:
        """A date as its eight digits, yyyymmdd."""
        return f"strftime({date}, '%Y%m%d')" if self.dialect == DUCKDB else f"date_format({date}, 'yyyyMMdd')"


def _spark_jaro_winkler(a: str, b: str) -> str:
    # Matching: each character of `a`, in order, takes the first unused equal character of `b` within the window;
    # `used` lists the positions of `b` taken, in the order of `a`'s characters. `a`'s matched characters are then
    # b[used[k]], and `b`'s are b[sorted(used)[k]]; half-transpositions are the k where the two differ.
    window = f"greatest(CAST(greatest(length({a}), length({b})) DIV 2 AS INT) - 1, 0)"
    low, high = f"greatest(1, i - {window})", f"least(length({b}), i + {window})"
    candidates = f"IF({low} <= {high}, sequence({low}, {high}), array())"
    take = f"slice(filter({candidates}, j -> substr({b}, j, 1) = substr({a}, i, 1) AND NOT array_contains(used, j)), 1, 1)"
    matched = f"aggregate(sequence(1, length({a})), CAST(array() AS ARRAY<INT>), (used, i) -> concat(used, {take}))"
    half = f"size(filter(zip_with(u, array_sort(u), (x, y) -> substr({b}, x, 1) <> substr({b}, y, 1)), d -> d))"
    m = "CAST(size(u) AS DOUBLE)"
    jaro = f"IF(size(u) = 0, 0D, ({m} / length({a}) + {m} / length({b}) + ({m} - ({half} DIV 2)) / {m}) / 3.0D)"
    prefix = f"size(filter(sequence(1, least(4, length({a}), length({b}))), k -> substr({a}, 1, k) = substr({b}, 1, k)))"
    boosted = _let("x", f"{prefix} * 0.1D", _let("y", "1.0D - s", _fused_multiply_add("x", "y", "s")))
    winkler = _let("s", jaro, f"IF(s > 0.7D, {boosted}, s)")
    return f"IF({a} = {b}, 1D, {_let('u', matched, winkler)})"


def _let(name: str, value: str, body: str) -> str:
    """`body` with `name` bound to `value`, computed once (SQL has no LET)."""
    return f"transform(array({value}), {name} -> {body})[0]"


def _fused_multiply_add(x: str, y: str, z: str) -> str:
    """x * y + z rounded once, as DuckDB's build computes Winkler's boost (a fused multiply-add: plain double
    arithmetic differs in the last bit, and a pair at exactly 0.9 would drop below the level). The exact product
    is ph + pl (Dekker), then added to z without losing pl (Knuth's two-sum). Measured equal to DuckDB on every
    pair tests/linkage/test_comparisons.py compares."""

    def split(a: str, body: str) -> str:  # Veltkamp: a = {a}h + {a}l, each half exactly multipliable
        return _let(f"{a}c", f"134217729.0D * {a}", _let(f"{a}h", f"{a}c - ({a}c - {a})", _let(f"{a}l", f"{a} - {a}h", body)))

    product_low = f"(({x}h * {y}h - ph) + {x}h * {y}l + {x}l * {y}h) + {x}l * {y}l"
    two_sum = _let("t", f"{z} + ph", _let("bb", f"t - {z}", f"t + ((({z} - (t - bb)) + (ph - bb)) + pl)"))
    return _let("ph", f"{x} * {y}", split(x, split(y, _let("pl", product_low, two_sum))))
