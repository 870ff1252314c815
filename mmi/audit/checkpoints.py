"""Signed checkpoints of the log, in the C2SP signed-note format (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

A checkpoint's body is three lines, origin, tree size and the base64 root hash, then one extension line with the
time it was made (`time 2026-12-02T03:00:00Z`); a blank line; then the signature line
`— <key name> <base64(key ID ‖ Ed25519 signature of the body)>`, the key ID being the first four bytes of
SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key). The key is the log's own, in `[audit] signing_key` (made on first
use, mode 0600), never the API's token key; its public half goes to `[audit] public_key`, which is what the
verifier trusts (a department keeps a copy, with the last checkpoint it saw).

```toml
[audit]
origin = "mmi.example/audit-log"      # the log's name: first line of every checkpoint, and the key's name
signing_key = "keys/audit-log.pem"    # Ed25519 private key (PKCS#8 PEM)
public_key = "keys/audit-log.pub"     # its public key, as a signed-note verifier key
read_terms_key = "keys/audit-read-terms.key"  # HMAC key for the search terms auditors' reads keep (mmi.audit.read_terms)
```
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, insert, select, update

from connectors.source import setting
from mmi.audit.keyfiles import create_private_file
from mmi.audit.log import tree_head
from mmi.sections import read_section
from mmi.store.audit_tables import audit_checkpoint, audit_head
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from mmi.config import Settings

DASH = "\u2014"


@dataclass(frozen=True)
class AuditSettings:
    origin: str = "mmi.example/audit-log"
    signing_key: Path = setting(Path("keys/audit-log.pem"), kind="path")
    public_key: Path = setting(Path("keys/audit-log.pub"), kind="path")
    # the key auditors' search terms are hashed with (mmi.audit.read_terms), not the log's signing key
    read_terms_key: Path = setting(Path("keys/audit-read-terms.key"), kind="path")


def read_audit(table: Any, base: Path) -> AuditSettings:
    audit = read_section(AuditSettings, table, "audit", base)
    if not audit.origin or any(ch.isspace() or ch == "+" for ch in audit.origin):
        raise ConfigError(f"[audit] origin = {audit.origin!r}: give a name without spaces or '+' (e.g. mmi.example/audit-log)")
    return audit


def audit_settings(settings: Settings) -> AuditSettings:
    return settings.audit if settings.audit is not None else AuditSettings()


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str
    note: str


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The signed-note verifier key: `name+hex(key ID)+base64(0x01 ‖ public key)`."""
    encoded = base64.b64encode(b"\x01" + public).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, raw Ed25519 public key) of a verifier key; ValueError if it is not one."""
    name, hex_id, encoded = text.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if raw[:1] != b"\x01" or len(raw) != 33 or key_id(name, raw[1:]).hex() != hex_id:
        raise ValueError("not an Ed25519 signed-note verifier key")
    return name, raw[1:]


def ensure_key(audit: AuditSettings) -> Ed25519PrivateKey:
    """The log's signing key, made (with its public verifier key file) if there is none yet."""
    if not audit.signing_key.exists():
        made = Ed25519PrivateKey.generate()
        pem = made.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        if create_private_file(audit.signing_key, pem):
            audit.public_key.parent.mkdir(parents=True, exist_ok=True)
            audit.public_key.write_text(verifier_key(audit.origin, _raw_public(made.public_key())) + "\n", encoding="utf-8")
            return made
    key = serialization.load_pem_private_key(audit.signing_key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"[audit] signing_key {audit.signing_key} is not an Ed25519 key")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_note(origin: str, key: Ed25519PrivateKey, size: int, root: bytes, when: dt.datetime) -> str:
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {when.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
    signature = key_id(origin, _raw_public(key.public_key())) + key.sign(body.encode("utf-8"))
    return f"{body}\n{DASH} {origin} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: str) -> Checkpoint:
    """The checkpoint a signed note carries, if the verifier key `verifier` signed it; ValueError saying why not."""
    name, public = parse_verifier_key(verifier)
    body, separator, signatures = note.partition("\n\n")
    if not separator or not body:
        raise ValueError("not a signed note (no blank line between text and signatures)")
    body += "\n"
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        raw = base64.b64decode(parts[2])
        if raw[:4] != key_id(name, public):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise ValueError(f"the signature by {name} does not verify") from None
        return _checkpoint(body, note)
    raise ValueError(f"no signature by the log's key {name} (key ID {key_id(name, public).hex()})")


def _checkpoint(body: str, note: str) -> Checkpoint:
    lines = body.rstrip("\n").split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValueError("a checkpoint's body is origin, tree size, root hash")
    when = next((line[5:] for line in lines[3:] if line.startswith("time ")), "")
    return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True), when, note)


def checkpoint(connection: Connection, audit: AuditSettings, made_by: str) -> str | None:
    """Sign the log's head as this transaction sees it, unless a checkpoint of that size exists; the latest note
    (None while the log is empty). Takes the head's lock: call it at the end of a transaction."""
    connection.execute(update(audit_head).where(audit_head.c.id == 1).values(size=audit_head.c.size))
    size, root = tree_head(connection)
    if size == 0:
        return None
    existing = connection.execute(select(audit_checkpoint.c.note).where(audit_checkpoint.c.tree_size == size)).scalar_one_or_none()
    if existing is not None:
        return str(existing)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    note = sign_note(audit.origin, ensure_key(audit), size, root, now)
    connection.execute(insert(audit_checkpoint).values(tree_size=size, root_hash=root.hex(), note=note, made_at=now, made_by=made_by))
    return note


def make_checkpoint(engine: Engine, audit: AuditSettings, made_by: str) -> str | None:
    """A checkpoint of the log as it is now, in a transaction of its own (end of an ingest batch, link run...)."""
    with engine.begin() as connection:
        return checkpoint(connection, audit, made_by)


def latest_note(connection: Connection) -> str | None:
    query = select(audit_checkpoint.c.note).order_by(audit_checkpoint.c.tree_size.desc()).limit(1)
    value = connection.execute(query).scalar_one_or_none()
    return None if value is None else str(value)


def trusted_verifier(audit: AuditSettings) -> str:
    """The verifier key checkpoints are checked against: `[audit] public_key` (made with the signing key)."""
    try:
        return audit.public_key.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"[audit] public_key {audit.public_key} does not exist: the log has signed nothing yet, or the file was moved"
        ) from None
