"""Fault injection: the control API queues faults, the next matching API calls answer with them.

A platform renders each kind in its own error shapes by overriding `fault_error` (and
`rate_limited_error` for "429") and sets `malformed_body`; "hang" and "malformed" are acted
out by the handler, since one delays the answer and the other is not JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

FAULT_KINDS = ("500", "503", "429", "409", "401", "expired", "hang", "malformed")


@dataclass
class Fault:
    endpoint: str  # an endpoint's name, or "*" for every endpoint
    kind: str  # one of FAULT_KINDS
    remaining: int  # calls still to answer with it
    shop_id: str | None = None  # None: whichever shop calls, authenticated or not
    retry_after: float | None = None  # the Retry-After of a "429"


def fault_json(fault: Fault) -> dict[str, Any]:
    """A queued fault as the body of the control call that adds it."""
    return {
        "endpoint": fault.endpoint,
        "kind": fault.kind,
        "count": fault.remaining,
        "shop": fault.shop_id,
        "retryAfter": fault.retry_after,
    }


class FaultInjection:
    """Part of `SandboxState`: the faults queued, taken in order by the calls they match."""

    lock: threading.RLock
    faults: list[Fault]
    rate_limits: dict[str, float]
    rate_limited_error: Callable[[float], ApiError]  # from RateLimits: a "429" looks the same
    # How long a "hang" holds the answer back: past any client's read timeout.
    hang_seconds: float
    # What a "malformed" fault answers with 200: JSON cut off in the middle.
    malformed_body: bytes = b'{"items": [{"id": "1'

    def fault_add(
        self,
        endpoint: str,
        kind: str,
        count: int = 1,
        *,
        shop_id: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Queue a fault; the endpoint must be one with a rate limit (every endpoint has one)."""
        if kind not in FAULT_KINDS:
            raise ApiError(400, {"error": f"fault kind must be one of {', '.join(FAULT_KINDS)}"})
        if endpoint != "*" and endpoint not in self.rate_limits:
            raise ApiError(400, {"error": f"unknown endpoint {endpoint}"})
        fault = Fault(endpoint, kind, int(count), shop_id, retry_after)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fault_take(self, shop_id: str | None, endpoint: str) -> Fault | None:
        """The first fault this call matches, counted down (and dropped once used up)."""
        with self.lock:
            for fault in self.faults:
                if fault.endpoint in ("*", endpoint) and fault.shop_id in (None, shop_id):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def fault_error(self, fault: Fault) -> ApiError:
        """The error a fault answers with, in the kit's plain shape; platforms use their own."""
        if fault.kind == "429":
            return self.rate_limited_error(fault.retry_after or 1)
        status = 401 if fault.kind in ("401", "expired") else int(fault.kind)
        return ApiError(status, {"error": f"injected fault: {fault.kind}"})
