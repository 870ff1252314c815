"""The web pages' settings, from the config's `[web]` table.

```toml
[web]
public_url = "http://127.0.0.1:8700"   # where browsers reach `mmi serve`: the base of `mmi login`'s links
idle_timeout_seconds = 1800            # a session unused this long is over
session_max_seconds = 43200            # and any session ends after this long (a pasted token's own expiry, if sooner)
login_code_seconds = 300               # how long a link from `mmi login` can be used (once)
secure_cookies = "auto"                # true, false, or "auto": Secure when the request came over https
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmi.config import Settings
from mmi.errors import ConfigError

_SECONDS = ("idle_timeout_seconds", "session_max_seconds", "login_code_seconds")
_KEYS = {"public_url", "secure_cookies", *_SECONDS}


@dataclass(frozen=True)
class WebSettings:
    public_url: str = "http://127.0.0.1:8700"
    idle_timeout_seconds: int = 1800
    session_max_seconds: int = 43200
    login_code_seconds: int = 300
    secure_cookies: bool | None = None  # None: follow the request's scheme


def web_settings(settings: Settings) -> WebSettings:
    section: dict[str, Any] = settings.raw.get("web", {})
    if unknown := set(section) - _KEYS:
        raise ConfigError(f"[web] has unknown keys {sorted(unknown)}: it takes {sorted(_KEYS)}")
    for key in _SECONDS:
        value = section.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"[web] {key} = {value!r}: give a positive number of seconds")
    secure = section.get("secure_cookies", "auto")
    if secure not in (True, False, "auto"):
        raise ConfigError(f'[web] secure_cookies = {secure!r}: give true, false or "auto"')
    defaults = WebSettings()
    return WebSettings(
        public_url=str(section.get("public_url", defaults.public_url)).rstrip("/"),
        idle_timeout_seconds=section.get("idle_timeout_seconds", defaults.idle_timeout_seconds),
        session_max_seconds=section.get("session_max_seconds", defaults.session_max_seconds),
        login_code_seconds=section.get("login_code_seconds", defaults.login_code_seconds),
        secure_cookies=None if secure == "auto" else bool(secure),
    )
