"""The web pages' settings, from the config's `[web]` table (read once by mmi.config, like every section).

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

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmi.sections import read_section
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.config import Settings

_SECONDS = ("idle_timeout_seconds", "session_max_seconds", "login_code_seconds")


@dataclass(frozen=True)
class WebSettings:
    public_url: str = "http://127.0.0.1:8700"
    idle_timeout_seconds: int = 1800
    session_max_seconds: int = 43200
    login_code_seconds: int = 300
    secure_cookies: bool | None = None  # None ("auto" in the file): follow the request's scheme


@dataclass(frozen=True)
class _WebTable:
    """[web] as the file has it (secure_cookies may be the string "auto")."""

    public_url: str = "http://127.0.0.1:8700"
    idle_timeout_seconds: int = 1800
    session_max_seconds: int = 43200
    login_code_seconds: int = 300
    secure_cookies: Any = "auto"


def web_settings(settings: Settings) -> WebSettings:
    """The pages' section of settings read once (mmi.config); the defaults where the file has no [web]."""
    return settings.web or WebSettings()


def read_web(table: Any, base: Path) -> WebSettings:
    """`[web]`; ConfigError names the key to fix."""
    read = read_section(_WebTable, table, "web", base)
    for key in _SECONDS:
        value = getattr(read, key)
        if isinstance(value, bool) or value <= 0:
            raise ConfigError(f"[web] {key} = {value!r}: give a positive number of seconds")
    if read.secure_cookies not in (True, False, "auto"):
        raise ConfigError(f'[web] secure_cookies = {read.secure_cookies!r}: give true, false or "auto"')
    values = dataclasses.asdict(read) | {
        "public_url": read.public_url.rstrip("/"),
        "secure_cookies": None if read.secure_cookies == "auto" else read.secure_cookies,
    }
    return WebSettings(**values)
