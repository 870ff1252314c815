"""Settings: read once from the TOML config file and the environment, then passed down as plain values.

The file is `--config PATH` or `$MMI_CONFIG`. Relative paths in it (SQLite files, drop folders) are relative to
the file's own folder, so a config travels with the data it names. Secrets may come from the environment
instead of the file: `MMI_HEALTH_TOKEN`, `MMI_STORE_URL`, `MMI_PUBLIC_SECURITY_URL`.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mmi.errors import ConfigError


@dataclass(frozen=True)
class PublicSecuritySettings:
    url: str
    table: str = "ga_jzdj"
    # Rows committed late with an older GXSJ are caught by re-reading this window behind the cursor.
    lookback_seconds: int = 3600


@dataclass(frozen=True)
class DropFolderSettings:
    drop_dir: Path


@dataclass(frozen=True)
class HealthSettings:
    base_url: str
    token: str
    page_size: int = 500
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_retry_after_seconds: float = 120.0
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class LinkageSettings:
    # Pairs scoring at least match_threshold join a cluster; those between review_threshold and it go to review.
    match_threshold: float = 0.999
    review_threshold: float = 0.5
    # A DuckDB file holding the records, scored pairs and clusters of the last run, so an incremental run scores
    # only what changed. A cache: if it is missing or out of step with the store, the next run is a full one.
    workspace: Path = Path("var/linkage.duckdb")


@dataclass(frozen=True)
class Settings:
    config_path: Path | None
    store_url: str
    public_security: PublicSecuritySettings | None = None
    human_resources: DropFolderSettings | None = None
    statistics: DropFolderSettings | None = None
    health: HealthSettings | None = None
    linkage: LinkageSettings = field(default_factory=LinkageSettings)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the whole file, for later sections

    @property
    def configured_sources(self) -> list[str]:
        names = ("public_security", "human_resources", "statistics", "health")
        return [name for name in names if getattr(self, name) is not None]


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
    base = config_path.parent if config_path else Path.cwd()
    store_url = _resolve_url(os.environ.get("MMI_STORE_URL") or _require(raw, "store", "url"), base)
    sources = raw.get("sources", {})
    return Settings(
        config_path=config_path,
        store_url=store_url,
        public_security=_public_security(sources.get("public_security"), base),
        human_resources=_drop_folder(sources.get("human_resources"), "human_resources", base),
        statistics=_drop_folder(sources.get("statistics"), "statistics", base),
        health=_health(sources.get("health")),
        linkage=_linkage(raw.get("linkage", {}), store_url, base),
        raw=raw,
    )


def _public_security(section: dict[str, Any] | None, base: Path) -> PublicSecuritySettings | None:
    if section is None:
        return None
    url = os.environ.get("MMI_PUBLIC_SECURITY_URL") or _require(section, "url", where="sources.public_security")
    return PublicSecuritySettings(
        url=_resolve_url(url, base),
        table=section.get("table", "ga_jzdj"),
        lookback_seconds=int(section.get("lookback_seconds", 3600)),
    )


def _drop_folder(section: dict[str, Any] | None, name: str, base: Path) -> DropFolderSettings | None:
    if section is None:
        return None
    drop_dir = Path(_require(section, "drop_dir", where=f"sources.{name}"))
    return DropFolderSettings(drop_dir=drop_dir if drop_dir.is_absolute() else (base / drop_dir).resolve())


def _health(section: dict[str, Any] | None) -> HealthSettings | None:
    if section is None:
        return None
    token = os.environ.get("MMI_HEALTH_TOKEN") or section.get("token")
    if not token:
        raise ConfigError("sources.health needs a token: set sources.health.token or MMI_HEALTH_TOKEN")
    known = {f for f in HealthSettings.__dataclass_fields__ if f not in ("base_url", "token")}
    options = {key: value for key, value in section.items() if key in known}
    return HealthSettings(base_url=_require(section, "base_url", where="sources.health").rstrip("/"), token=token, **options)


def _linkage(section: dict[str, Any], store_url: str, base: Path) -> LinkageSettings:
    match = float(section.get("match_threshold", LinkageSettings.match_threshold))
    review = float(section.get("review_threshold", LinkageSettings.review_threshold))
    if not 0 < review <= match < 1:
        raise ConfigError(f"linkage: need 0 < review_threshold ({review}) <= match_threshold ({match}) < 1")
    if "workspace" in section:
        workspace = Path(section["workspace"])
    else:
        # One workspace per store: two configs naming different stores must not share one.
        workspace = Path("var") / f"linkage-{hashlib.sha256(store_url.encode()).hexdigest()[:12]}.duckdb"
    return LinkageSettings(match, review, workspace if workspace.is_absolute() else (base / workspace).resolve())


def _require(section: dict[str, Any], *keys: str, where: str = "") -> Any:
    value: Any = section
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            dotted = ".".join(filter(None, [where, *keys]))
            raise ConfigError(f"the config needs '{dotted}' (see README, 'Configuration')")
        value = value[key]
    return value


def _resolve_url(url: str, base: Path) -> str:
    """A SQLite URL's relative file path is taken relative to the config file's folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        database = Path(parsed.database)
        if not database.is_absolute():
            return parsed.set(database=str((base / database).resolve())).render_as_string(hide_password=False)
    return url
