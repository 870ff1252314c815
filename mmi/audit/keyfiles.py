"""Key files the audit log makes on first use (its signing key, the read-terms key): new, and private to their owner."""

from __future__ import annotations

import os
from pathlib import Path


def create_private_file(path: Path, content: bytes) -> bool:
    """Write `content` to `path` as a new file of mode 0600; False, writing nothing, when the file exists already
    (another process made it a moment ago: the caller reads theirs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return True
