"""The key that auditors' search terms are hashed with before they are kept (mmi.provenance.reads).

An ID number or a name looked up is kept only as a digest, so that the record of who looked at whom holds no
personal data of its own. A plain SHA-256 would not do: ID numbers are few enough to enumerate (a region, a birth
date, a three-digit sequence) and names fewer still, so anyone reading the reads could recover the terms. The digest
is HMAC-SHA-256 under a key of the deployment's own, `[audit] read_terms_key` (32 random bytes in hex, made on first
use, mode 0600, beside the log's signing key). Whoever holds the key can still answer "who searched for this
number?" by hashing the number the same way; without it, the digests say nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from mmi.audit.keyfiles import create_private_file
from schemas.errors import ConfigError

KEY_BYTES = 32


def read_terms_key(path: Path) -> bytes:
    """The key in `path`, made there if there is none yet (by whichever process gets there first)."""
    if not path.exists():
        create_private_file(path, (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii"))  # or another process's, read below
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigError(f"[audit] read_terms_key {path} does not hold {KEY_BYTES} bytes in hex (delete it to make a new one)")
    return key


def term_digest(key: bytes, term: str) -> str:
    """HMAC-SHA-256 (hex) of a search term under the deployment's key."""
    return hmac.new(key, term.encode("utf-8"), hashlib.sha256).hexdigest()
