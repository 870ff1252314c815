"""Scoring pairs with a trained model, the same way in full and incremental runs.

A `TrainedModel` is plain data: Splink's settings (with every m and u probability) and the term frequencies
the model was trained with. Scores use those frozen term frequencies, never ones recomputed from today's
records, so a pair's score depends only on its two records and the model: an incremental run that scores new
records against the index gives every pair exactly the score a full run would.

Pairs come out as a DuckDB table `(left_key, right_key, match_probability, match_weight)` with
left_key < right_key, each pair once, at or above a minimum probability.

Splink runs on an engine (`LinkageEngine`): DuckDB in the caller's own connection (`DUCKDB_ENGINE`, the functions
below), or Spark (linkage.spark.SparkEngine), which reads the DuckDB tables it is given as Parquet and writes
the pairs back the same way. Either way the caller's DuckDB tables go in and a DuckDB table of pairs comes out.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from linkage.dialects import DUCKDB
from linkage.model import bound_m_probabilities, model_in_dialect, trained_linker

TF_COLUMNS = ("surname", "given_name")
# Levels EM never sees (a sibling's guardian level is fixed by design, rare levels at small sizes) keep Splink's
# defaults; training logs them once, so scoring does not repeat the warning on every run.
UNTRAINED_WARNING: Literal["never"] = "never"  # the comparisons' term-frequency columns (linkage.comparisons)


@dataclass(frozen=True)
class TrainedModel:
    settings: dict[str, Any]  # Splink's model JSON
    term_frequencies: dict[str, dict[str, float]]  # column → value → frequency, as trained

    @cached_property  # hashing ten megabytes of term frequencies is worth doing once
    def sha256(self) -> str:
        canonical = json.dumps([self.settings, self.term_frequencies], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def train_model(duck: duckdb.DuckDBPyConnection, table: str) -> TrainedModel:
    """Train on `table` (linkage.model's recipe) and keep what scoring needs."""
    return trained_model(trained_linker(DuckDBAPI(connection=duck), table), lambda sql: duck.execute(sql).fetchall())


def trained_model(linker: Linker, fetch: Callable[[str], Iterable[Sequence[Any]]]) -> TrainedModel:
    """What scoring needs of a trained `linker`: its model, its levels in DuckDB's SQL whichever engine trained it
    (one model, whatever runs it: linkage.model.model_in_dialect), and its term frequencies (`fetch` runs a query
    on the linker's engine)."""
    frequencies = {}
    for column in TF_COLUMNS:
        tf_table = linker.table_management.compute_tf_table(column)
        rows = fetch(f"SELECT {column}, tf_{column} FROM {tf_table.physical_name}")
        frequencies[column] = {value: float(frequency) for value, frequency in rows if value is not None}
    return TrainedModel(bound_m_probabilities(model_in_dialect(linker.misc.save_model_to_json(), DUCKDB)), frequencies)


def scoring_linker(duck: duckdb.DuckDBPyConnection, table: str, model: TrainedModel) -> tuple[DuckDBAPI, Linker]:
    """A linker over `table` that scores with `model` and its frozen term frequencies."""
    db_api = DuckDBAPI(connection=duck)
    linker = Linker(db_api.register(table), json.loads(json.dumps(model.settings)))  # Splink may mutate what it is given
    logging.getLogger("splink").setLevel(logging.WARNING)  # after the Linker: it sets its own level
    for column, frequencies in model.term_frequencies.items():
        # Kept in the database under the model's hash: a persistent workspace builds it once per model version.
        table = f"model_tf_{column}_{model.sha256[:16]}"
        if not duck.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]).fetchall():
            lookup = pa.table({column: list(frequencies), f"tf_{column}": list(frequencies.values())})  # noqa: F841 - read by DuckDB
            duck.execute(f"CREATE TABLE {table} AS SELECT * FROM lookup")
        linker.table_management.register_term_frequency_lookup(db_api.register(table), column)
    return db_api, linker


def score_within(duck: duckdb.DuckDBPyConnection, table: str, model: TrainedModel, min_probability: float, into: str) -> int:
    """Every blocked pair within `table` scoring at least `min_probability`, into table `into`; returns the count."""
    db_api, linker = scoring_linker(duck, table, model)
    predictions = linker.inference.predict_within(
        db_api.register(table), threshold_match_probability=min_probability, warning_mode=UNTRAINED_WARNING
    )
    return _keep_pairs(duck, predictions, into)


def score_between(
    duck: duckdb.DuckDBPyConnection, changed: str, everyone: str, model: TrainedModel, min_probability: float, into: str
) -> int:
    """Every blocked pair of a `changed` record with any record of `everyone` (which includes the changed ones),
    scoring at least `min_probability`, into table `into`; returns the count."""
    db_api, linker = scoring_linker(duck, everyone, model)
    predictions = linker.inference.predict_between(
        db_api.register(changed),
        db_api.register(everyone),
        threshold_match_probability=min_probability,
        warning_mode=UNTRAINED_WARNING,
    )
    return _keep_pairs(duck, predictions, into)


def _keep_pairs(duck: duckdb.DuckDBPyConnection, predictions: SplinkDataFrame, into: str) -> int:
    count = keep_pairs(duck, predictions.physical_name, into)
    predictions.drop_table_from_database_and_remove_from_cache()
    return count


def keep_pairs(duck: duckdb.DuckDBPyConnection, predictions: str, into: str) -> int:
    """Splink's predictions (a table or table expression of `duck`) as our pairs, into table `into`."""
    # Between a changed table and everyone, a pair of two changed records comes out twice and each record meets
    # itself: order each pair and keep it once.
    duck.execute(f"""
        CREATE OR REPLACE TABLE {into} AS
        SELECT least(unique_id_l, unique_id_r) AS left_key, greatest(unique_id_l, unique_id_r) AS right_key,
               any_value(match_probability) AS match_probability, any_value(match_weight) AS match_weight
        FROM {predictions}
        WHERE unique_id_l <> unique_id_r
        GROUP BY ALL
    """)
    [(count,)] = duck.execute(f"SELECT count(*) FROM {into}").fetchall()
    return int(count)


class LinkageEngine(Protocol):
    """Where Splink trains and scores; the tables named are the caller's DuckDB tables."""

    name: str

    def train(self, duck: duckdb.DuckDBPyConnection, table: str) -> TrainedModel: ...

    def score_within(self, duck: duckdb.DuckDBPyConnection, table: str, model: TrainedModel, min_probability: float, into: str) -> int: ...

    def score_between(
        self, duck: duckdb.DuckDBPyConnection, changed: str, everyone: str, model: TrainedModel, min_probability: float, into: str
    ) -> int: ...


class DuckDBEngine:
    """Splink on DuckDB, in the caller's connection: the embedded engine."""

    name = "duckdb"

    def train(self, duck: duckdb.DuckDBPyConnection, table: str) -> TrainedModel:
        return train_model(duck, table)

    def score_within(self, duck: duckdb.DuckDBPyConnection, table: str, model: TrainedModel, min_probability: float, into: str) -> int:
        return score_within(duck, table, model, min_probability, into)

    def score_between(
        self, duck: duckdb.DuckDBPyConnection, changed: str, everyone: str, model: TrainedModel, min_probability: float, into: str
    ) -> int:
        return score_between(duck, changed, everyone, model, min_probability, into)


DUCKDB_ENGINE: LinkageEngine = DuckDBEngine()
