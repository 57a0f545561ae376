"""The state every platform's sandbox holds beside its own data.

A platform's `Sandbox` subclasses `SandboxState`, adds its shops, catalogue and orders and
their API behaviour, and fills in the hooks: `platform_dump`/`platform_load`/`platform_reset`
and `health` for its data, `fault_error`, `rate_limited_error` and `malformed_body` for how
its errors look.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from .calls import Call, CallLog
from .faults import Fault, FaultInjection
from .persistence import Persistence
from .ratelimit import RateLimits


class SandboxState(FaultInjection, CallLog, RateLimits, Persistence):
    """Faults to inject, the calls answered, rate windows, persistence: under one lock.

    The lock is re-entrant and guards the platform's data too, so a control call never sees
    an API call half done and a platform method may call another while holding it.
    """

    def __init__(
        self,
        *,
        rate_limits: Mapping[str, float],
        hang_seconds: float = 40.0,
        calls_kept: int = 100_000,
    ) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.calls: deque[Call] = deque(maxlen=calls_kept)
        self.rate_limits = dict(rate_limits)
        self._windows = {}
        self.hang_seconds = hang_seconds

    def health(self) -> dict[str, Any]:
        """What GET /_sandbox/health answers; a platform adds what it serves (its shops)."""
        return {"ok": True}

    def platform_reset(self) -> None:
        """Forget the platform's data (POST /_sandbox/reset); the kit holds the lock."""

    def reset(self) -> None:
        """Back to empty: the platform's data, the faults queued and the call log."""
        with self.lock:
            self.platform_reset()
            self.faults.clear()
            self.calls.clear()
