"""Token buckets: a rate limit with a burst, per key (an API key in a usage plan, a stage's route)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """`take(key, rate, burst)`: one request under `rate` per second with bursts of `burst`; False when the
    key's bucket is empty. A missing rate refills at once, a missing burst holds one second of the rate."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[tuple[Hashable, float | None, int | None], _Bucket] = {}

    def take(self, key: Hashable, rate: float | None, burst: int | None) -> bool:
        if rate is None and burst is None:
            return True
        refill = rate if rate is not None else float("inf")
        depth = float(burst if burst is not None else max(refill, 1.0))
        now = self._monotonic()
        # New limits start a full bucket (a setting just changed should not inherit the old one's debt).
        bucket = self._buckets.setdefault((key, rate, burst), _Bucket(depth, now))
        bucket.tokens = min(depth, bucket.tokens + (now - bucket.at) * refill)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True
