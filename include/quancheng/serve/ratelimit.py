"""A per-client token bucket, in memory: ``rate`` calls a second on average, bursts up to ``burst``.

One bucket per client name, refilled lazily on each call (no timer thread). The service runs as one
process, so memory is the right place; behind several workers each would hold its own buckets and the
effective limit would multiply (the service is started as one process, see ``quancheng serve``).
"""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, rate: float, burst: float | None = None):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """Spend one token; 0 when allowed, else the seconds until one is available (for ``Retry-After``)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, t))
            tokens = min(self.burst, tokens + (t - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, t)
                return 0.0
            self._buckets[client] = (tokens, t)
            return (1 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
