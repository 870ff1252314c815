"""Standardising rows in segments: inline for small runs, in a worker process for large ones.

Standardisation is about half of ingest's CPU time. On a machine with a second core, a worker process
standardises one segment while the main process reads the next from the feed and writes the previous one to the
store. Results come back in order, so the pipeline's checkpoints and versions are exactly as without the worker.
Starting a worker costs about half a second, so it starts only once a department has delivered enough rows.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectors.base import payload_json, sha256_hex
from linkage.standardise.record import RawPerson, UnusableRecord, standardise_person, standardise_service
from schemas.canonical import PERSON_FIELDS, SERVICE_FIELDS

PARALLEL_AFTER = 10_000  # rows a department delivers before a worker process is worth starting


@dataclass(frozen=True, slots=True)
class Item:
    """A row to standardise: a person already mapped to canonical names, or a service event's payload."""

    kind: str  # "person", "service", or "unmappable" (fields then hold the reason)
    fields: RawPerson | dict[str, Any]
    payload: dict[str, Any]  # the native row, whose JSON and checksum are stored with the version


@dataclass(frozen=True, slots=True)
class Standardised:
    columns: dict[str, Any]  # ready to store: quality flags and service detail as JSON text
    payload_text: str
    payload_sha256: str


def standardise_items(items: list[Item]) -> list[Standardised | str]:
    """Each item's columns, or the reason it cannot be used (a string). Never raises for a bad row."""
    return [_standardise(item) for item in items]


def _standardise(item: Item) -> Standardised | str:
    if item.kind == "unmappable":
        return str(item.fields.get("reason"))
    try:
        if item.kind == "person":
            record: Any = standardise_person(item.fields)  # type: ignore[arg-type]
            names = PERSON_FIELDS
        else:
            record = standardise_service(dict(item.fields))
            names = SERVICE_FIELDS
    except UnusableRecord as unusable:
        return str(unusable)
    except Exception as failure:  # noqa: BLE001 - one bad row never stops a run
        return f"standardisation failed ({type(failure).__name__}: {failure}); report this row to the MMI team"
    columns = {name: getattr(record, name) for name in names}
    # Stored as JSON text: done here, in the worker when there is one, rather than in the process that writes.
    columns["quality_flags"] = _flags_json(tuple(columns["quality_flags"]))
    if "detail" in columns:
        columns["detail"] = json.dumps(columns["detail"], ensure_ascii=False, sort_keys=True)
    text = payload_json(item.payload)
    return Standardised(columns, text, sha256_hex(text))


@functools.lru_cache(maxsize=4096)
def _flags_json(flags: tuple[str, ...]) -> str:
    """A record's quality flags as stored: a few combinations recur over millions of rows, so each is written once."""
    return json.dumps(list(flags), ensure_ascii=False)


class Standardiser:
    """Hands out segments of items to standardise; a context manager that owns its worker process, if any."""

    def __init__(self, parallel_after: int | None = PARALLEL_AFTER) -> None:
        # None: never start a worker. With one core, a worker would only compete with the main process.
        self.parallel_after = parallel_after if (os.cpu_count() or 1) > 1 else None
        self.seen = 0
        self.executor: Executor | None = None

    def submit(self, items: list[Item]) -> Future[list[Standardised | str]]:
        self.seen += len(items)
        if self.executor is None and self.parallel_after is not None and self.seen > self.parallel_after:
            # spawn, not fork: the parent may run threads (an HTTP client, a test's server) whose locks fork would copy.
            self.executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        if self.executor is not None:
            return self.executor.submit(standardise_items, items)
        done: Future[list[Standardised | str]] = Future()
        done.set_result(standardise_items(items))
        return done

    def __enter__(self) -> Standardiser:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
