"""The Splink model: settings from our comparisons and blocking rules, and how it is trained.

Training, in order: the prior (how likely two records match at all) from exact ID agreement, assumed to find
80% of matches; the u probabilities (how often each level occurs between *different* people) from random pairs;
then two EM sessions for the m probabilities, each blocked on something the other leaves free: records sharing
an ID number train names, dates and places; records sharing pinyin and birth year-month train the ID levels.
EM samples 100% of records here (Splink 5's default is 1%, too few for the rare levels this model relies on).

EM drives the m of a level it rarely sees among its matches to nothing (sex "all other" 1e-146, a district in the
same province 1e-47 at 20,000 people): a weight of -150 says "never", which no data taught it, and one stray
record then splits a person for good. After training, every learned m is bounded below by `M_FLOOR` (and each
comparison's m renormalised); levels fixed by design keep their value.

Model versions, scoring with frozen term frequencies and incremental runs are in linkage/scoring.py and mmi/index/.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import duckdb
from splink import Linker, SettingsCreator
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.database_api import DatabaseAPI

from linkage.blocking import BLOCKING_RULES
from linkage.comparisons import all_comparisons
from linkage.dialects import Dialect
from linkage.inputs import RECORDS
from schemas.errors import LinkageError

# What each training session blocks on, as the columns two records must share; the rules' SQL is made from them,
# so that the pairs a session will see can be counted before it runs (training_pairs).
EM_BLOCKS = (("id_number",), ("name_pinyin", "birth_year_month"))
PRIOR_BLOCK, PRIOR_RECALL = ("id_number",), 0.8
# The fewest pairs each session must see. EM on a handful of pairs (one department's few duplicates) learns nothing
# it should keep, and the model it gives is kept as the current version until someone retrains; Splink advises a
# few hundred at least. A hundred still lets a store of a hundred people, every department ingested, train.
MIN_TRAINING_PAIRS = 100
# A million random pairs: at 490k records, two million (the baseline's) gave the same F1 to the fourth decimal at
# noise x1 and x3 (0.99963 / 0.99921 against 0.99965 / 0.99919) and took 1.5 s longer (bench/linkage.py).
U_SAMPLE_PAIRS = 1e6
# The least m a learned level keeps: one true pair in ten thousand may show it (a weight of about -13 against a
# typical u, still decisive; not -150).
M_FLOOR = 1e-4


def settings() -> SettingsCreator:
    comparisons: list[ComparisonCreator | dict[str, Any]] = list(all_comparisons())
    rules: list[BlockingRuleCreator | dict[str, Any]] = [CustomRule(rule.sql) for rule in BLOCKING_RULES]
    return SettingsCreator(
        link_type="dedupe_only",  # every department's records in one table: links within and across departments
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )


def trained_linker(db_api: DatabaseAPI[Any], table: str = RECORDS, *, seed: int = 1) -> Linker:
    """A linker over `table` (registered with `db_api`), trained as described above."""
    linker = Linker(db_api.register(table), settings())
    logging.getLogger("splink").setLevel(logging.WARNING)  # after the Linker: it sets its own level
    linker.training.estimate_probability_two_random_records_match([block_rule(PRIOR_BLOCK)], recall=PRIOR_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed)
    for block in EM_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(block_rule(block), record_sample_proportion=1.0)
    return linker


def block_rule(columns: tuple[str, ...]) -> str:
    """The blocking rule pairing records that share every one of `columns` (none of them null)."""
    return " AND ".join(f"l.{column} = r.{column}" for column in columns)


def training_pairs(duck: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """How many pairs of `table`'s records each training session would see, by its rule: records sharing all of a
    block's columns, each pair once (as Splink's dedupe_only pairs them)."""
    counts = {}
    for block in dict.fromkeys((PRIOR_BLOCK, *EM_BLOCKS)):
        present = " AND ".join(f"{column} IS NOT NULL" for column in block)
        groups = f"SELECT count(*) AS n FROM {table} WHERE {present} GROUP BY {', '.join(block)}"
        [(pairs,)] = duck.execute(f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM ({groups})").fetchall()
        counts[block_rule(block)] = int(pairs)
    return counts


def bound_m_probabilities(model: dict[str, Any], floor: float = M_FLOOR) -> dict[str, Any]:
    """`model` (Splink's model JSON) with every learned m at least `floor`, each comparison's m summing to one."""
    for comparison in model["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        learned = [level for level in levels if level.get("m_probability") is not None and not level.get("fix_m_probability")]
        if not learned:
            continue
        for level in learned:
            level["m_probability"] = max(float(level["m_probability"]), floor)
        fixed = sum(float(level["m_probability"]) for level in levels if level.get("fix_m_probability") and level.get("m_probability"))
        total = sum(float(level["m_probability"]) for level in learned)
        for level in learned:
            level["m_probability"] = float(level["m_probability"]) * (1 - fixed) / total
    return model


def model_in_dialect(model: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """`model` (Splink's model JSON, trained on either engine) with every level's SQL in `dialect`'s: the same
    levels, m and u, term-frequency settings; the conditions as our comparisons write them for that engine. A
    model whose levels are not ours (another version of the comparisons) is refused, not guessed at."""
    converted = copy.deepcopy(model)
    built = settings().create_settings_dict(dialect)
    ours = [(c["output_column_name"], [lvl["label_for_charts"] for lvl in c["comparison_levels"]]) for c in built["comparisons"]]
    theirs = [(c["output_column_name"], [lvl["label_for_charts"] for lvl in c["comparison_levels"]]) for c in model["comparisons"]]
    if ours != theirs:
        raise LinkageError("the model's comparison levels are not those of linkage.comparisons: retrain it (`mmi train`)")
    for comparison, fresh in zip(converted["comparisons"], built["comparisons"], strict=True):
        for level, fresh_level in zip(comparison["comparison_levels"], fresh["comparison_levels"], strict=True):
            level["sql_condition"] = fresh_level["sql_condition"]
    for rule in converted["blocking_rules_to_generate_predictions"]:  # the rules' SQL is the same on both engines
        if isinstance(rule, dict) and "sql_dialect" in rule:
            rule["sql_dialect"] = dialect
    if "sql_dialect" in converted:  # Splink's saved models name it; our settings leave it to the linker
        converted["sql_dialect"] = dialect
    return converted
