"""The provenance service's errors; the API and the pages map each to one HTTP status."""

from __future__ import annotations

from schemas.errors import MMIError


class ProvenanceError(MMIError):
    """A provenance read could not be done as asked."""


class NotFound(ProvenanceError):
    """No such master, record version or disclosure subject, or none the caller may see (HTTP 404)."""


class NotAllowed(ProvenanceError):
    """The caller's role may not read provenance (HTTP 403): only auditors and admins may."""


class InvalidQuery(ProvenanceError):
    """The question is malformed (HTTP 422): a record key without its department, two subjects at once."""
