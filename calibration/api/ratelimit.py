"""A token bucket per API token, kept in the server process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`burst` calls at once per key, refilled at `rate` calls per minute."""

    def __init__(
        self,
        rate: Callable[[], int],
        burst: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Rate and burst are read at each call, so a changed setting needs no restart.
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Spend one call of key's bucket: 0.0 if allowed, else seconds until one is free."""
        per_second = self._rate() / 60.0
        burst = float(self._burst())
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / per_second

    def reset(self) -> None:
        """Forget every bucket (tests; a restart does the same)."""
        with self._lock:
            self._state.clear()
