"""The call log: every API request a sandbox answered, for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol


class Caller(Protocol):
    """Whoever a platform's authentication found; faults, rate limits and the log key on it."""

    shop_id: str


@dataclass
class Call:
    at: float  # time.time() when answered
    shop_id: str | None  # None when the caller was not authenticated
    endpoint: str  # the endpoint's name, or the path when no route matched
    method: str
    status: int
    fault: str | None = None  # the kind of the fault injected into this call
    body: Any = None  # the parsed request body, so a test can check what was sent


def call_json(call: Call) -> dict[str, Any]:
    """A call as the control API lists it; request bodies stay in memory (they can be large)."""
    return {
        "at": call.at,
        "shop": call.shop_id,
        "endpoint": call.endpoint,
        "method": call.method,
        "status": call.status,
        "fault": call.fault,
    }


class CallLog:
    """Part of `SandboxState`: the calls answered, oldest first, under the sandbox's lock."""

    lock: threading.RLock
    calls: deque[Call]

    def call_record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def calls_matching(
        self, *, shop_id: str | None = None, endpoint: str | None = None
    ) -> list[Call]:
        """The calls of one shop and/or one endpoint (None matches any)."""
        with self.lock:
            return [
                call
                for call in self.calls
                if (shop_id is None or call.shop_id == shop_id)
                and (endpoint is None or call.endpoint == endpoint)
            ]
