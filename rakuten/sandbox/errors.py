"""How RMS says no: the error bodies of its gateway, its Inventory and Item APIs and its Order
API, and how an injected fault looks in them.
"""

from __future__ import annotations

from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault

# What a "malformed" fault answers with 200: an order search cut off in the middle.
MALFORMED_BODY = b'{"orderNumberList": ["100001-20260101-0000'


def gateway_error(status: int, code: str, message: str, **headers: str) -> ApiError:
    # The API gateway in front of every RMS API answers in this shape.
    return ApiError(status, {"Results": {"errorCode": code, "message": message}}, headers)


def inventory_error(status: int, errors: list[tuple[str, str, str | None]]) -> ApiError:
    return ApiError(
        status,
        {
            "errors": [
                {"code": code, "message": message, "metadata": {"propertyPath": path}}
                if path
                else {"code": code, "message": message}
                for code, message, path in errors
            ]
        },
    )


def order_error(status: int, code: str, message: str) -> ApiError:
    return ApiError(
        status,
        {"MessageModelList": [{"messageType": "ERROR", "messageCode": code, "message": message}]},
    )


def too_many_requests(retry_after: float) -> ApiError:
    """The gateway's 429, for a call over its rate limit and for an injected "429"."""
    return gateway_error(429, "ES04-02", "Too Many Requests", **{"Retry-After": f"{retry_after:g}"})


def fault_error(fault: Fault) -> ApiError:
    """An injected fault as RMS would answer it ("hang" and "malformed" never get here)."""
    match fault.kind:
        case "500" | "503":
            return ApiError(
                int(fault.kind), {"errors": [{"code": "X0000", "message": "System error."}]}
            )
        case "429":
            return too_many_requests(fault.retry_after or 1)
        case "409":
            return inventory_error(
                409, [("CE0001", "Conflict with another process. Retry later.", None)]
            )
        case "expired":
            return gateway_error(401, "GA0001", "License key is expired.")
    return gateway_error(401, "ES01-01", "Un-Authorised")
