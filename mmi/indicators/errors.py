"""The indicators service's errors; the API and the pages map each to one HTTP status (mmi.api.indicators)."""

from __future__ import annotations

from schemas.errors import MMIError


class IndicatorError(MMIError):
    """An indicators request could not be answered as asked."""


class Forbidden(IndicatorError):
    """The caller's role, department or jurisdiction does not reach this (HTTP 403)."""


class UnknownIndicator(IndicatorError):
    """No indicator of that id in the current definitions (HTTP 404)."""


class InvalidRequest(IndicatorError):
    """A parameter the service cannot use (HTTP 422): a date out of range, an indicator without a worklist."""


STATUS: dict[type[IndicatorError], int] = {Forbidden: 403, UnknownIndicator: 404, InvalidRequest: 422}


def status_of(error: IndicatorError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
