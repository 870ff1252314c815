"""The project's one root error type, and the families beneath it.

Every error says what went wrong *and how to fix it*. Errors that may pass on their own (a department's API
answering 503) are `TransientError`s and are retried; everything else is terminal: the record, file or page is
quarantined with the message as its reason, and the run goes on.
"""

from __future__ import annotations

from typing import Any

CONTEXT = ("department", "location", "cursor", "record_key")


class MMIError(Exception):
    """Root of every error this project raises on purpose.

    What the error is about travels as fields beside the message, as dlt's errors carry theirs: `department`, the
    `location` (file and line, API page and item, table and key), the stream's `cursor` and the `record_key`;
    None where it does not apply. `str(error)` is the message, which already names what matters to a reader.
    """

    def __init__(
        self,
        message: str = "",
        *,
        department: str | None = None,
        location: str | None = None,
        cursor: Any = None,
        record_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.department, self.location, self.cursor, self.record_key = department, location, cursor, record_key

    @property
    def context(self) -> dict[str, Any]:
        """The fields that apply, for logs and reports."""
        return {name: value for name in CONTEXT if (value := getattr(self, name, None)) is not None}

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (ingest workers): rebuilt from message and fields, whatever __init__ takes.
        return (_rebuild, (type(self), str(self), self.context))


def _rebuild(cls: type[MMIError], message: str, context: dict[str, Any]) -> MMIError:
    error = cls.__new__(cls)
    MMIError.__init__(error, message, **context)
    return error


class ConfigError(MMIError):
    """The config file or environment is missing something or holds a wrong value."""


class TransientError(MMIError):
    """A failure that may pass if the same call is made again later (rate limits, 5xx, dropped connections)."""


class SourceError(MMIError):
    """A department's feed could not be read as a whole (bad credentials, missing folder, unknown table)."""

    def __init__(self, department: str, message: str, **context: Any) -> None:
        super().__init__(f"[{department}] {message}", department=department, **context)


class StoreError(MMIError):
    """The master index store refused an operation (schema out of date, database unreachable)."""


class LinkageBusy(TransientError):
    """Another linkage run holds the workspace: this one may run once it has finished."""


class LinkageError(MMIError):
    """Linkage cannot run as asked (no records yet, a constraint naming an unknown record)."""


class NotReadyToTrain(LinkageError):
    """The store does not yet hold what a model must be trained on (every configured department's records, enough
    pairs under each training rule). Nothing failed: link again once more has been ingested."""


class UnusableRecord(MMIError):
    """The row has nothing to link on, or no valid service type; the pipeline quarantines it with this reason."""


class SchemaError(MMIError, ValueError):
    """A change-set schema breaks a rule: a version not compatible with another, a type the encoder does not handle."""
