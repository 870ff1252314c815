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
from typing import Any

from mmi.config import Settings
from mmi.errors import ConfigError

ROLES = ("subscriber", "steward", "auditor", "admin")
_KEYS = {"issuer", "audience", "jwks", "signing_key", "token_ttl_seconds", "leeway_seconds"}


@dataclass(frozen=True)
class ApiSettings:
    issuer: str
    audience: str
    jwks: Path
    signing_key: Path
    token_ttl_seconds: int = 3600
    leeway_seconds: int = 30


def api_settings(settings: Settings) -> ApiSettings:
    base = settings.config_path.parent if settings.config_path else Path.cwd()
    section: dict[str, Any] = settings.raw.get("api", {})
    if unknown := set(section) - _KEYS:
        raise ConfigError(f"[api] has unknown keys {sorted(unknown)}: it takes {sorted(_KEYS)}")
    for key in ("token_ttl_seconds", "leeway_seconds"):
        value = section.get(key, 0)
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"[api] {key} = {value!r}: give whole seconds")

    def path(key: str, default: str) -> Path:
        value = Path(section.get(key, default))
        return value if value.is_absolute() else (base / value).resolve()

    return ApiSettings(
        issuer=str(section.get("issuer", "mmi")),
        audience=str(section.get("audience", "mmi-exchange")),
        jwks=path("jwks", "keys/jwks.json"),
        signing_key=path("signing_key", "keys/signing.pem"),
        token_ttl_seconds=int(section.get("token_ttl_seconds", 3600)) or 3600,
        leeway_seconds=int(section.get("leeway_seconds", 30)),
    )
