"""The plain-Splink baseline: generic settings a competent analyst would write in an afternoon.

Splink's library comparisons on the same standardised columns (so the difference measured is the model, not
the cleaning): a generic name comparison (Jaro-Winkler, which DuckDB computes on UTF-8 bytes), exact ID,
Splink's date-of-birth comparison, exact sex, phone, hukou region and district; three common blocking rules; the
same training steps as the project's model.
"""

from __future__ import annotations

import logging

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from linkage.inputs import RECORDS


def baseline_settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("name"),
            cl.ExactMatch("id_number"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("hukou_region"),
            cl.ExactMatch("current_district"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("birth_date", "current_district"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def trained_baseline(db_api: DuckDBAPI, table: str = RECORDS, *, seed: int = 1) -> Linker:
    logging.getLogger("splink").setLevel(logging.WARNING)
    linker = Linker(db_api.register(table), baseline_settings())
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"), record_sample_proportion=1.0)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "birth_date"), record_sample_proportion=1.0)
    return linker
