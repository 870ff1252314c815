"""A request budget per token: a token bucket keyed by the token's subject and jti, so one client cannot starve
the others (`[api] rate_limit_per_second`, `rate_limit_burst`).

The buckets live in the memory of each server process. Under `mmi serve --workers N` every worker keeps its own,
so a token may make up to N times its budget across the workers (the kernel spreads connections over them); the
limit still caps what one client takes from each worker, which is what keeps the others served. A shared budget
would need the store or Redis on every request.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_FORGET_AFTER = 600.0  # seconds: a bucket left untouched this long is full again, so it can be dropped


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`take(key)`: 0 when the request may go on, else the whole seconds until it may (for `Retry-After`)."""

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = max(burst, 1)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._next_sweep = 0.0

    def take(self, key: tuple[str, str]) -> int:
        if self.per_second <= 0:
            return 0
        now = self._clock()
        with self._lock:
            self._sweep(now)
            bucket = self._buckets.setdefault(key, _Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.per_second)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + _FORGET_AFTER
        for key in [key for key, bucket in self._buckets.items() if now - bucket.stamp > _FORGET_AFTER]:
            del self._buckets[key]
