"""Rate limits as the platforms count them: a sliding one-second window per shop and endpoint."""

from __future__ import annotations

import math
import threading
from collections import deque
from time import monotonic

from .calls import Caller
from .errors import ApiError


class RateLimits:
    """Part of `SandboxState`: refuses a call over its endpoint's requests per second.

    The check runs before the endpoint does, so a refused call changed nothing, which is
    what a client retrying a 429 relies on. A platform gives the 429 its own body by
    overriding `rate_limited_error`.
    """

    lock: threading.RLock
    rate_limits: dict[str, float]  # requests per second by endpoint name
    _windows: dict[tuple[str, str], deque[float]]

    def rate_check(self, shop: Caller, endpoint: str) -> None:
        """Count this call in its window, or refuse it (an endpoint with no figure gets 1/s)."""
        limit = self.rate_limits.get(endpoint, 1)
        now = monotonic()
        with self.lock:
            window = self._windows.setdefault((shop.shop_id, endpoint), deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= math.floor(limit):
                raise self.rate_limited_error(1)
            window.append(now)

    def rate_limited_error(self, retry_after: float) -> ApiError:
        """The 429 of a refused call, telling the client when to come back."""
        return ApiError(429, {"error": "too many requests"}, {"Retry-After": f"{retry_after:g}"})
