"""Per-key request rate: a token bucket for each API key, in this process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Lets a key make `per_minute` requests a minute, in bursts of up to `per_minute`.

    Kept in memory: with several API processes each one counts on its own, so the rate a
    key gets is at most the number of processes times this one (a guard against a runaway
    poller, not a quota).
    """

    per_minute: int
    clock: object = field(default=time.monotonic)
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def take(self, key_id: int) -> float:
        """Take one request for `key_id`; returns 0 when allowed, else seconds to wait."""
        now = self._now()
        rate = self.per_minute / 60.0
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(tokens=float(self.per_minute), at=now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _now(self) -> float:
        clock = self.clock
        assert callable(clock)
        return float(clock())


def retry_after_header(seconds: float) -> int:
    """Whole seconds for Retry-After (at least 1)."""
    return max(1, math.ceil(seconds))
