"""The API's settings, from the config's `[api]` table (paths relative to the config file).

```toml
[api]
issuer = "mmi"                    # the tokens' iss
audience = "mmi-exchange"         # the tokens' aud
jwks = "keys/jwks.json"           # public keys tokens are checked against (two during a rotation)
signing_key = "keys/signing.pem"  # private key `mmi token` signs with (not needed by `mmi serve`)
token_ttl_seconds = 3600
leeway_seconds = 30               # clock skew allowed on exp and iat
```
"""

from __future__ import annotations

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


def api_settings(settings: Settings) -> ApiSettings:
    """The API's section of settings read once (mmi.config)."""
    assert settings.api is not None, "settings are built by mmi.config, which reads [api]"
    return settings.api


def read_api(table: Any, base: Path) -> ApiSettings:
    """`[api]`, paths relative to the config's folder; ConfigError names the key to fix."""
    for key in ("token_ttl_seconds", "leeway_seconds"):
        value = (table or {}).get(key, 0) if isinstance(table, dict) else 0
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"[api] {key} = {value!r}: give whole seconds")
    api = read_section(ApiSettings, table, "api", base)
    return api if api.token_ttl_seconds else ApiSettings(api.issuer, api.audience, api.jwks, api.signing_key, 3600, api.leeway_seconds)
