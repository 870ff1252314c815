"""Settings: read once from the TOML config file and the environment, into typed sections passed down as values.

The file is `--config PATH` or `$MMI_CONFIG`. Relative paths in it (SQLite files, drop folders) are relative to
the file's own folder, so a config travels with the data it names. Secrets may come from the environment
instead of the file: `MMI_HEALTH_TOKEN`, `MMI_STORE_URL`, `MMI_PUBLIC_SECURITY_URL`.

Every table is read by `mmi.sections.read_section` into its dataclass: `[store]`, `[sources.<department>]` (the
settings each connector folder declares, connectors.registry), `[linkage]`, `[spark]`, `[exchange]` with
`[subscribers.<name>]` (mmi.exchange.subscriptions), `[api]` (mmi.api.settings), `[web]` (mmi.web.settings),
`[audit]` (mmi.audit.checkpoints). A key, table or department the
project does not know is refused, naming it and what is accepted. Entry points take their section.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.registry import DEPARTMENTS, SOURCES
from connectors.source import setting
from mmi.sections import check_keys, read_section
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.api.settings import ApiSettings
    from mmi.audit.checkpoints import AuditSettings
    from mmi.exchange.subscriptions import ExchangeSettings
    from mmi.web.settings import WebSettings

TABLES = ("store", "sources", "linkage", "spark", "exchange", "subscribers", "api", "web", "audit")


@dataclass(frozen=True)
class StoreSettings:
    url: str = setting(env="MMI_STORE_URL", kind="url")  # any SQLAlchemy URL: SQLite (embedded) or PostgreSQL
    # A step (migration, a department's ingest, link, publish) another run holds is waited for this long, then
    # the run exits 1 naming the holder (mmi.store.locks).
    lock_wait_seconds: float = 60.0
    # A running ingest batch or link run records a heartbeat this often; one whose heartbeat is older than
    # stale_after_seconds, found by the next run of its step, is marked failed (its process died).
    heartbeat_seconds: float = 10.0
    stale_after_seconds: float = 60.0


@dataclass(frozen=True)
class LinkageSettings:
    # Pairs scoring at least match_threshold join a cluster; those between review_threshold and it go to review.
    match_threshold: float = 0.999
    review_threshold: float = 0.5
    # A DuckDB file holding the records, scored pairs and clusters of the last run, so an incremental run scores
    # only what changed. A cache: if it is missing or out of step with the store, the next run is a full one.
    workspace: Path = Path("var/linkage.duckdb")
    # Where Splink trains and scores: "duckdb" (embedded, in the workspace) or "spark" (the [spark] master, reading
    # and writing Parquet beside the workspace). The run's bookkeeping stays in the workspace either way.
    backend: str = "duckdb"


BACKENDS = ("duckdb", "spark")


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[2]"  # or a cluster's URL, spark://host:7077
    conf: dict[str, str] = field(default_factory=dict)  # Spark settings (spark.executor.memory = "4g", ...) over ours


@dataclass(frozen=True)
class Settings:
    config_path: Path | None
    store_url: str
    store: StoreSettings = field(default_factory=lambda: StoreSettings(url=""))
    sources: dict[str, Any] = field(default_factory=dict)  # department → its settings (connectors.registry), if configured
    linkage: LinkageSettings = field(default_factory=LinkageSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)
    exchange: ExchangeSettings | None = None
    api: ApiSettings | None = None
    web: WebSettings | None = None
    audit: AuditSettings | None = None

    @property
    def configured_sources(self) -> list[str]:
        return [name for name in DEPARTMENTS if name in self.sources]

    def with_source(self, department: str, settings: Any) -> Settings:
        """These settings with `department`'s replaced (tests point a source at a server they started)."""
        return dataclasses.replace(self, sources={**self.sources, department: settings})


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from `path`, else `$MMI_CONFIG`; raises ConfigError saying what to fix."""
    path = path or os.environ.get("MMI_CONFIG")
    if not path:
        raise ConfigError("no config file: pass --config PATH or set MMI_CONFIG (see README, 'Configuration')")
    config_path = Path(path).resolve()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {config_path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {config_path} is not valid TOML: {error}") from None
    return settings_from_dict(raw, config_path)


def settings_from_dict(raw: dict[str, Any], config_path: Path | None = None) -> Settings:
    """Every section of the parsed file `raw`, read and checked once."""
    from mmi.api.settings import read_api
    from mmi.audit.checkpoints import read_audit
    from mmi.exchange.subscriptions import read_exchange
    from mmi.web.settings import read_web

    base = config_path.parent if config_path else Path.cwd()
    if unknown := sorted(set(raw) - set(TABLES)):
        raise ConfigError(f"the config has unknown tables {unknown}: it takes {list(TABLES)} (see README, 'Configuration')")
    store = read_section(StoreSettings, raw.get("store"), "store", base)
    store_url = store.url
    return Settings(
        config_path=config_path,
        store_url=store_url,
        store=store,
        sources=_sources(raw.get("sources"), base),
        linkage=_linkage(raw.get("linkage"), store_url, base),
        spark=_spark(raw.get("spark"), base),
        exchange=read_exchange(raw.get("exchange"), raw.get("subscribers"), base),
        api=read_api(raw.get("api"), base),
        web=read_web(raw.get("web"), base),
        audit=read_audit(raw.get("audit"), base),
    )


def _sources(tables: Any, base: Path) -> dict[str, Any]:
    tables = {} if tables is None else tables
    if not isinstance(tables, dict):
        raise ConfigError("'sources' must be tables: [sources.<department>] (see README, 'Configuration')")
    check_keys(tables, DEPARTMENTS, "sources")
    return {
        source.department: read_section(source.settings, tables[source.department], f"sources.{source.department}", base)
        for source in SOURCES
        if source.department in tables
    }


def _linkage(table: Any, store_url: str, base: Path) -> LinkageSettings:
    table = dict(table or {})
    if "workspace" not in table:
        # One workspace per store: two configs naming different stores must not share one.
        table["workspace"] = f"var/linkage-{hashlib.sha256(store_url.encode()).hexdigest()[:12]}.duckdb"
    linkage = read_section(LinkageSettings, table, "linkage", base)
    match, review = linkage.match_threshold, linkage.review_threshold
    if not 0 < review <= match < 1:
        raise ConfigError(f"linkage: need 0 < review_threshold ({review}) <= match_threshold ({match}) < 1")
    if linkage.backend not in BACKENDS:
        raise ConfigError(f"[linkage] backend = {linkage.backend!r}: give one of {list(BACKENDS)}", location="[linkage] backend")
    return linkage


def _spark(table: Any, base: Path) -> SparkSettings:
    spark = read_section(SparkSettings, table, "spark", base)
    if not isinstance(spark.conf, dict):
        raise ConfigError('[spark] conf must be a table of Spark settings, e.g. conf = { "spark.executor.memory" = "4g" }')
    conf = {}
    for key, value in spark.conf.items():
        if not key.startswith("spark.") or isinstance(value, dict | list):
            raise ConfigError(
                f"[spark] conf: {key!r} is not a Spark setting (a 'spark.' key with a plain value)", location=f"[spark] conf.{key}"
            )
        conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return dataclasses.replace(spark, conf=conf)
