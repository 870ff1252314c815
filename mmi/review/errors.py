"""The review service's errors; the API maps each family to one HTTP status (see mmi.api.review)."""

from __future__ import annotations

from schemas.errors import MMIError


class ReviewError(MMIError):
    """A review operation could not be done as asked."""


class NotFound(ReviewError):
    """No such item or decision, or none the caller may see (HTTP 404)."""


class NotAllowed(ReviewError):
    """The caller's role or identity may not do this (HTTP 403): a reader deciding, a proposer approving."""


class InvalidDecision(ReviewError):
    """The decision does not fit the item (HTTP 422): a split of a pair, groups that miss a record."""


class StateConflict(ReviewError):
    """The item or decision is no longer in a state that allows this (HTTP 409): approving an accepted one."""
