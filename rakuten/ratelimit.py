"""Per-shop, per-endpoint request spacing that holds across the threads of a process.

Each (shop, endpoint) has a gate. A caller reserves the next free slot under the
gate's lock and sleeps outside it, so N threads calling one endpoint of one shop
are spaced 1/rate seconds apart whatever their number. A small margin keeps the
spacing above the limit when the network delivers two requests closer together
than they were sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_MARGIN = 0.02


class _Gate:
    __slots__ = ("lock", "next_at")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0


class RateLimiter:
    def __init__(
        self,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._gates: dict[tuple[str, str], _Gate] = {}
        self._lock = threading.Lock()
        self._margin = margin
        self._clock = clock
        self._sleep = sleep

    def _gate(self, key: tuple[str, str]) -> _Gate:
        gate = self._gates.get(key)
        if gate is None:
            with self._lock:
                gate = self._gates.setdefault(key, _Gate())
        return gate

    def reserve(self, shop: str, endpoint: str, per_second: float) -> float:
        """Reserve the next slot; return how long the caller must wait for it."""
        if per_second <= 0:
            return 0.0
        interval = 1.0 / per_second + self._margin
        gate = self._gate((shop, endpoint))
        with gate.lock:
            now = self._clock()
            start = max(now, gate.next_at)
            gate.next_at = start + interval
        return start - now

    def acquire(self, shop: str, endpoint: str, per_second: float) -> float:
        wait = self.reserve(shop, endpoint, per_second)
        if wait > 0:
            self._sleep(wait)
        return wait

    def reset(self) -> None:
        with self._lock:
            self._gates.clear()


# One limiter per process: every client of a shop shares it.
limiter = RateLimiter()
