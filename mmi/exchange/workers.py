"""Projecting and encoding events for the subscribers, in this process or spread over worker processes.

Both ways give the same bytes. With `[exchange] workers = N` (N > 1), a batch with many events to encode is cut
into N runs of consecutive events; each worker reads its run from the store itself (only the numbers travel),
projects and encodes it for every subscriber, and returns the encoded records, which this process puts back in
order into change sets. Workers only read, each with its own connection.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqlalchemy import Engine

from mmi.exchange.changesets import Encoded, encode_records
from mmi.exchange.outbox import Route, read_events
from mmi.exchange.projection import compiled
from mmi.exchange.routing import OutboxEvent, Projector
from mmi.exchange.subscriptions import Subscription
from schemas.changeset import latest_version

PARALLEL_MIN_EVENTS = 4000  # below this, starting and feeding workers costs more than it saves

_engines: dict[str, Engine] = {}  # a worker's own engine per store


def project_and_encode(events: list[OutboxEvent], subscriptions: list[Subscription]) -> dict[str, list[Encoded]]:
    """Each subscriber's share of `events` (in order), projected and encoded: in one pass where the schema's layout
    is the one `projection` compiles, else as a datum (`Projector`) encoded by `RecordEncoder`; the same bytes."""
    shares = {}
    version = latest_version()
    for subscription in subscriptions:
        if (deliver := compiled(version, subscription)) is not None:
            shares[subscription.name] = [(event.seq, encoded) for event in events if (encoded := deliver(event)) is not None]
            continue
        projector = Projector(subscription)
        shares[subscription.name] = encode_records(subscription, [datum for event in events if (datum := projector(event)) is not None])
    return shares


class EncodingPool:
    """Worker processes for large batches, started on first use."""

    def __init__(self, store_url: str, workers: int) -> None:
        self.store_url = store_url
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def encode(self, routes: list[Route], subscriptions: list[Subscription]) -> dict[str, list[Encoded]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(_start_method()))
        size = -(-len(routes) // self.workers)
        runs = [routes[start : start + size] for start in range(0, len(routes), size)]
        futures = [self._pool.submit(_encode_run, self.store_url, run, subscriptions) for run in runs]
        shares: dict[str, list[Encoded]] = {subscription.name: [] for subscription in subscriptions}
        for future in futures:  # in the order of the runs: the events stay in number order
            for name, encoded in future.result().items():
                shares[name] += encoded
        return shares

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _start_method() -> str:
    """fork when this process runs one thread (the command line): a worker is ready at once, and it never touches
    the connections it inherits; spawn otherwise (a scheduler's process), as forking a threaded process is unsafe."""
    return "fork" if threading.active_count() == 1 else "spawn"


def _encode_run(store_url: str, routes: list[Route], subscriptions: list[Subscription]) -> dict[str, Any]:
    from mmi.store.database import create_store_engine

    engine = _engines.get(store_url) or _engines.setdefault(store_url, create_store_engine(store_url))
    with engine.connect() as connection:
        events = read_events(connection, routes)
    return project_and_encode(events, subscriptions)
