"""The project's one root error type, and the families beneath it.

Every error says what went wrong *and how to fix it*. Errors that may pass on their own (a department's API
answering 503) are `TransientError`s and are retried; everything else is terminal: the record, file or page is
quarantined with the message as its reason, and the run goes on.
"""

from __future__ import annotations


class MMIError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(MMIError):
    """The config file or environment is missing something or holds a wrong value."""


class TransientError(MMIError):
    """A failure that may pass if the same call is made again later (rate limits, 5xx, dropped connections)."""


class SourceError(MMIError):
    """A department's feed could not be read as a whole (bad credentials, missing folder, unknown table)."""

    def __init__(self, department: str, message: str) -> None:
        super().__init__(f"[{department}] {message}")
        self.department = department


class StoreError(MMIError):
    """The master index store refused an operation (schema out of date, database unreachable)."""


class LinkageBusy(TransientError):
    """Another linkage run holds the workspace: this one may run once it has finished."""


class LinkageError(MMIError):
    """Linkage cannot run as asked (no records yet, a constraint naming an unknown record)."""


class UnusableRecord(MMIError):
    """The row has nothing to link on, or no valid service type; the pipeline quarantines it with this reason."""
