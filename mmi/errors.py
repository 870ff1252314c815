"""The project's errors live in `schemas.errors` (the libraries raise them too, and may not import `mmi`).

Kept so that `from mmi.errors import ...` in service code reads as before; new code imports `schemas.errors`.
"""

from __future__ import annotations

from schemas.errors import ConfigError, LinkageBusy, LinkageError, MMIError, SourceError, StoreError, TransientError

__all__ = ["ConfigError", "LinkageBusy", "LinkageError", "MMIError", "SourceError", "StoreError", "TransientError"]
