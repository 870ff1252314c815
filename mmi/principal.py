"""Who is asking: the subject, role and jurisdiction a verified token (or a session made from one) carries.

Kept apart from the HTTP layer so that the service layer (mmi.review) and the API (mmi.api) both import it,
and neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    # District code prefixes the caller may see; None: everywhere (a token without a `jurisdiction` claim).
    jurisdiction: tuple[str, ...] | None = None
    # The token's ID (`jti`): what a revocation names and the rate limit counts by; None for a session from `mmi login`.
    token_id: str | None = None

    def covers(self, district: str | None) -> bool:
        """Whether a record living in `district` is within the caller's jurisdiction (no district: only for
        callers who see everywhere)."""
        if self.jurisdiction is None:
            return True
        return district is not None and district.startswith(self.jurisdiction)
