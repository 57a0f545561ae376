"""The control API every sandbox serves under /_sandbox/ (no authentication: loopback only).

GET health, GET state, POST reset, POST save, PUT rate-limits, POST/GET/DELETE faults,
GET/DELETE calls (?shop=&endpoint=). A platform's handler adds its own routes in `control`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .calls import call_json
from .faults import fault_json
from .state import SandboxState


def control_answer(
    sandbox: SandboxState,
    state_file: Path | None,
    method: str,
    parts: list[str],
    query: dict[str, str],
    body: Any,
) -> tuple[int, Any] | None:
    """(status, body) for one of the kit's control routes, or None when none matches.

    `parts` are the path's segments after /_sandbox/; a missing key or a bad value in the
    body raises (KeyError, TypeError, ValueError) and the handler answers 400.
    """
    match (method, *parts):
        case ("GET", "health"):
            return 200, sandbox.health()
        case ("GET", "state"):
            return 200, sandbox.dump()
        case ("POST", "reset"):
            sandbox.reset()
            return 200, {"ok": True}
        case ("POST", "save"):
            if not state_file:
                return 400, {"error": "the sandbox was started without --state"}
            sandbox.save(state_file)
            return 200, {"saved": str(state_file)}
        case ("PUT", "rate-limits"):
            sandbox.rate_limits.update({k: float(v) for k, v in body.items()})
            return 200, sandbox.rate_limits
        case ("POST", "faults"):
            fault = sandbox.fault_add(
                body["endpoint"],
                str(body["kind"]),
                int(body.get("count", 1)),
                shop_id=body.get("shop"),
                retry_after=body.get("retryAfter"),
            )
            return 201, {"endpoint": fault.endpoint, "kind": fault.kind, "count": fault.remaining}
        case ("GET", "faults"):
            with sandbox.lock:
                return 200, {"faults": [fault_json(fault) for fault in sandbox.faults]}
        case ("DELETE", "faults"):
            with sandbox.lock:
                sandbox.faults.clear()
            return 200, {"ok": True}
        case ("GET", "calls"):
            calls = sandbox.calls_matching(
                shop_id=query.get("shop"), endpoint=query.get("endpoint")
            )
            return 200, {"calls": [call_json(call) for call in calls]}
        case ("DELETE", "calls"):
            with sandbox.lock:
                sandbox.calls.clear()
            return 200, {"ok": True}
    return None
