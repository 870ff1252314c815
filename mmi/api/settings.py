"""The API's settings, from the config's `[api]` table (paths relative to the config file).

```toml
[api]
issuer = "mmi"                    # the tokens' iss
audience = "mmi-exchange"         # the tokens' aud
jwks = "keys/jwks.json"           # public keys tokens are checked against (two during a rotation)
signing_key = "keys/signing.pem"  # private key `mmi token` signs with (not needed by `mmi serve`)
token_ttl_seconds = 3600
leeway_seconds = 30               # clock skew allowed on exp and iat
rate_limit_per_second = 20.0      # each token's sustained request rate (0: no limit)
rate_limit_burst = 40             # how many requests a token may make at once before the rate applies
revocation_cache_seconds = 2.0    # how long a process trusts its copy of the deny list (`mmi token revoke`)
```
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.source import setting
from mmi.sections import read_section
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.config import Settings

# planner: reads the indicators (aggregates only, never a name) inside its jurisdiction (mmi.indicators.service)
ROLES = ("subscriber", "steward", "auditor", "admin", "planner")


@dataclass(frozen=True)
class ApiSettings:
    issuer: str = "mmi"
    audience: str = "mmi-exchange"
    jwks: Path = setting(Path("keys/jwks.json"), kind="path")
    signing_key: Path = setting(Path("keys/signing.pem"), kind="path")
    token_ttl_seconds: int = 3600
    leeway_seconds: int = 30
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    revocation_cache_seconds: float = 2.0


def api_settings(settings: Settings) -> ApiSettings:
    """The API's section of settings read once (mmi.config)."""
    assert settings.api is not None, "settings are built by mmi.config, which reads [api]"
    return settings.api


def read_api(table: Any, base: Path) -> ApiSettings:
    """`[api]`, paths relative to the config's folder; ConfigError names the key to fix."""
    for key in ("token_ttl_seconds", "leeway_seconds", "rate_limit_burst"):
        value = (table or {}).get(key, 0) if isinstance(table, dict) else 0
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"[api] {key} = {value!r}: give a whole number, 0 or more")
    api = read_section(ApiSettings, table, "api", base)
    for key in ("rate_limit_per_second", "revocation_cache_seconds"):
        if getattr(api, key) < 0:
            raise ConfigError(f"[api] {key} = {getattr(api, key)!r}: give a number, 0 or more")
    return api if api.token_ttl_seconds else dataclasses.replace(api, token_ttl_seconds=3600)
