"""Per-shop, per-endpoint rate limiting that holds across the threads of a process.

RMS counts the requests it *receives* in a second. A request is received some
time between the moment we send it and the moment its answer is back, so the
only spacing that holds whatever the network does is: a new call may start once
fewer than N calls have started and not yet been answered, or answered less
than a second (plus a margin) ago. N calls may be in flight together; the
(N+1)-th waits for the oldest to be answered and a second to pass.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

DEFAULT_MARGIN = 0.02


class Slot:
    __slots__ = ("ended",)

    def __init__(self) -> None:
        self.ended: float | None = None


class _Gate:
    __slots__ = ("condition", "slots")

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.slots: list[Slot] = []


class RateLimiter:
    def __init__(
        self, *, margin: float = DEFAULT_MARGIN, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._gates: dict[tuple[str, str], _Gate] = {}
        self._lock = threading.Lock()
        self._margin = margin
        self._clock = clock

    def _gate(self, key: tuple[str, str]) -> _Gate:
        gate = self._gates.get(key)
        if gate is None:
            with self._lock:
                gate = self._gates.setdefault(key, _Gate())
        return gate

    def acquire(self, shop: str, endpoint: str, per_second: float) -> Slot:
        """Wait for a free slot and take it; give it back with `release` once answered."""
        slot = Slot()
        if per_second <= 0:
            return slot
        # Below 1/s: one call per 1/rate seconds.
        calls = max(1, math.floor(per_second))
        window = 1.0 if per_second >= 1 else 1.0 / per_second
        gate = self._gate((shop, endpoint))
        with gate.condition:
            while True:
                now = self._clock()
                gate.slots = [
                    s
                    for s in gate.slots
                    if s.ended is None or s.ended + window + self._margin > now
                ]
                if len(gate.slots) < calls:
                    gate.slots.append(slot)
                    return slot
                ended = [s.ended for s in gate.slots if s.ended is not None]
                # All in flight: wait for an answer (release notifies); else for the oldest to age.
                timeout = min(ended) + window + self._margin - now if ended else None
                gate.condition.wait(timeout)

    def release(self, shop: str, endpoint: str, slot: Slot) -> None:
        slot.ended = self._clock()
        gate = self._gates.get((shop, endpoint))
        if gate is not None:
            with gate.condition:
                gate.condition.notify_all()

    def reset(self) -> None:
        with self._lock:
            self._gates.clear()


# One limiter per process: every client of a shop shares it.
limiter = RateLimiter()
