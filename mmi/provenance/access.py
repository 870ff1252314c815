"""Who may read provenance: auditors and admins; a token's jurisdiction limits which masters they see."""

from __future__ import annotations

from mmi.principal import Principal
from mmi.provenance.errors import NotAllowed

AUDITORS = frozenset({"auditor", "admin"})
MAX_TEXT = 200  # the longest search term, record key or ID the service takes


def require_auditor(principal: Principal) -> None:
    if principal.role not in AUDITORS:
        raise NotAllowed(f"role {principal.role} may not read provenance (auditors and admins may)")


def split_record_key(key: str) -> tuple[str, str]:
    """'department|source_key' as its two parts; InvalidQuery when it is not one."""
    from mmi.provenance.errors import InvalidQuery

    department, bar, source_key = key.partition("|")
    if not bar or not department or not source_key or len(key) > MAX_TEXT:
        raise InvalidQuery(f"record key {key[:40]!r}: give department|source_key (e.g. public_security|JZ4101…)")
    return department, source_key
