"""Every section of the config is read by the same checks: a misspelt key is refused, naming the key, the section
and the keys the section accepts; so is an unknown table or department."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import DEPARTMENTS
from mmi.config import TABLES, settings_from_dict
from schemas.errors import ConfigError

SUBSCRIBER = {"department": "health", "jurisdiction": ["4101"], "fields": ["name"]}
SOURCES: dict[str, dict[str, Any]] = {
    "public_security": {"url": "sqlite:///ps.sqlite"},
    "human_resources": {"drop_dir": "hr"},
    "statistics": {"drop_dir": "stats"},
    "health": {"base_url": "http://127.0.0.1:8701", "token": "t"},
}


def full_config() -> dict[str, Any]:
    """A config with every table the project reads, each valid."""
    return {
        "store": {"url": "sqlite:///var/mmi.db"},
        "sources": {name: dict(table) for name, table in SOURCES.items()},
        "linkage": {"match_threshold": 0.99, "backend": "spark"},
        "spark": {"master": "spark://spark-master:7077", "conf": {"spark.executor.memory": "4g"}},
        "exchange": {"out_dir": "out"},
        "subscribers": {"zz-health": dict(SUBSCRIBER)},
        "api": {"issuer": "mmi"},
        "web": {"public_url": "http://127.0.0.1:8700"},
        "audit": {"origin": "mmi.test/audit-log"},
    }


def table_of(config: dict[str, Any], section: str) -> dict[str, Any]:
    table = config
    for part in section.split("."):
        table = table[part]
    return table


SECTIONS = [
    "store",
    *(f"sources.{name}" for name in DEPARTMENTS),
    "linkage",
    "spark",
    "exchange",
    "subscribers.zz-health",
    "api",
    "web",
    "audit",
]


def test_the_sections_cover_every_table_and_every_registered_department(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MMI_STORE_URL", "MMI_PUBLIC_SECURITY_URL", "MMI_HEALTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert set(SOURCES) == set(DEPARTMENTS)
    assert {section.split(".")[0] for section in SECTIONS} == set(TABLES)
    settings = settings_from_dict(full_config(), Path("/data/mmi.toml"))
    assert settings.configured_sources == list(DEPARTMENTS)
    assert settings.exchange and settings.exchange.subscriptions["zz-health"].fields == ("name",)
    assert settings.api and settings.api.jwks == Path("/data/keys/jwks.json")
    assert settings.linkage.backend == "spark" and settings.spark.master == "spark://spark-master:7077"
    assert settings.spark.conf == {"spark.executor.memory": "4g"}


def test_linkage_runs_on_duckdb_unless_told_and_spark_on_two_local_cores() -> None:
    config = full_config()
    del config["spark"], config["linkage"]["backend"]
    settings = settings_from_dict(config, Path("/data/mmi.toml"))
    assert (settings.linkage.backend, settings.spark.master, settings.spark.conf) == ("duckdb", "local[2]", {})


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"linkage": {"backend": "flink"}}, "[linkage] backend = 'flink': give one of ['duckdb', 'spark']"),
        ({"spark": {"conf": {"executor.memory": "4g"}}}, "'executor.memory' is not a Spark setting"),
        ({"spark": {"conf": {"spark.executor": {"memory": "4g"}}}}, "'spark.executor' is not a Spark setting"),
        ({"spark": {"conf": "spark.executor.memory=4g"}}, "[spark] conf must be a table"),
    ],
)
def test_an_unknown_backend_or_a_spark_setting_that_is_not_one_is_refused(change: dict[str, Any], complaint: str) -> None:
    config = full_config()
    for table, values in change.items():
        config[table] = {**config[table], **values}
    with pytest.raises(ConfigError) as raised:
        settings_from_dict(config, Path("/data/mmi.toml"))
    assert complaint in str(raised.value)


def test_spark_settings_given_as_numbers_or_booleans_reach_spark_as_its_strings() -> None:
    config = full_config()
    config["spark"]["conf"] = {"spark.sql.shuffle.partitions": 8, "spark.sql.adaptive.enabled": True}
    settings = settings_from_dict(config, Path("/data/mmi.toml"))
    assert settings.spark.conf == {"spark.sql.shuffle.partitions": "8", "spark.sql.adaptive.enabled": "true"}


@pytest.mark.parametrize("section", SECTIONS)
def test_a_misspelt_key_is_refused_naming_it_the_section_and_the_accepted_keys(section: str) -> None:
    config = full_config()
    table = table_of(config, section)
    accepted = sorted(table)
    table["colour_sceme"] = "blue"
    with pytest.raises(ConfigError) as raised:
        settings_from_dict(config, Path("/data/mmi.toml"))
    message = str(raised.value)
    assert "colour_sceme" in message and f"[{section}]" in message
    assert all(re.search(rf"'{key}'", message.split("it takes", 1)[1]) for key in accepted), message


def test_an_unknown_table_or_department_is_refused() -> None:
    config = full_config() | {"linkag": {"match_threshold": 0.9}}
    with pytest.raises(ConfigError, match=r"unknown tables \['linkag'\].*'linkage'"):
        settings_from_dict(config, Path("/data/mmi.toml"))
    config = full_config()
    config["sources"]["helth"] = config["sources"].pop("health")
    with pytest.raises(ConfigError, match=r"\[sources\] has unknown keys \['helth'\].*'health'"):
        settings_from_dict(config, Path("/data/mmi.toml"))


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("sources.health", "page_size", "many", r"\[sources.health\] page_size = 'many': give a number"),
        ("sources.public_security", "table", 7, r"\[sources.public_security\] table = 7: give a string"),
        ("linkage", "review_threshold", 0.9999, r"review_threshold"),
        ("exchange", "workers", 0, r"\[exchange\] workers = 0"),
        ("api", "leeway_seconds", -1, r"\[api\] leeway_seconds = -1"),
    ],
)
def test_a_wrong_value_names_its_key(section: str, key: str, value: Any, message: str) -> None:
    config = full_config()
    table_of(config, section)[key] = value
    with pytest.raises(ConfigError, match=message):
        settings_from_dict(config, Path("/data/mmi.toml"))
