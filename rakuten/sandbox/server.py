"""HTTP for the RMS sandbox: RMS's routes and the RMS part of the control API under /_sandbox/.

The kit (`sync.sandbox.server`) serves on loopback only, parses and answers; the control API
has no authentication.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sync.sandbox.calls import Call
from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault
from sync.sandbox.server import LoopbackServer, SandboxHandler, route

from ..client import redact
from ..endpoints import ENDPOINTS, JSON_CONTENT_TYPE
from .errors import MALFORMED_BODY, gateway_error, inventory_error, order_error
from .model import SandboxOrder, Shop
from .orders import order_json
from .state import Sandbox

__all__ = [
    "MALFORMED_BODY",
    "ROUTES",
    "ApiError",
    "Call",
    "Fault",
    "Handler",
    "Sandbox",
    "SandboxOrder",
    "SandboxServer",
    "gateway_error",
    "inventory_error",
    "order_error",
    "order_json",
]

ROUTES = [route(name, endpoint.method, endpoint.path) for name, endpoint in ENDPOINTS.items()]


class Handler(SandboxHandler):
    """RMS on the kit's handler: its paths, ESA auth, its body rules and its control routes."""

    server: SandboxServer
    routes = ROUTES
    content_type = JSON_CONTENT_TYPE
    logger = logging.getLogger("rakuten.sandbox")
    server_version = "RMS-Sandbox"

    def log_redact(self, line: str) -> str:
        return redact(line)

    def route_error(self, path: str, path_matched: bool) -> ApiError:
        if path_matched:
            return gateway_error(405, "ES02-05", "Method Not Allowed")
        return inventory_error(404, [("GE0007", "The path is invalid.", None)])

    def authenticate(self) -> Shop:
        return self.server.sandbox.authenticate(self.headers.get("Authorization"))

    def body_parse(self, endpoint: str, method: str, raw: bytes) -> Any:
        if method not in ("POST", "PUT"):
            return None
        self.server.sandbox.content_type_check(self.headers.get("Content-Type"))
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            if endpoint.startswith("order."):
                raise order_error(
                    400, "ORDER_EXT_API_ERROR_001", "リクエストの形式が不正です。"
                ) from None
            raise inventory_error(400, [("GE0011", "Request body is not JSON.", None)]) from None

    def call(
        self, endpoint: str, shop: Shop, args: tuple[str, ...], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        sandbox = self.server.sandbox
        if endpoint.startswith("order.") and not isinstance(body, dict):
            raise order_error(400, "ORDER_EXT_API_ERROR_001", "リクエストの形式が不正です。")
        match endpoint:
            case "order.search":
                return 200, sandbox.order_search(shop, body)
            case "order.get":
                return 200, sandbox.order_get(shop, body)
            case "order.confirm":
                return 200, sandbox.order_confirm(shop, body)
            case "inventory.bulk_get":
                return 200, sandbox.inventory_bulk_get(shop, body)
            case "inventory.bulk_upsert":
                sandbox.inventory_bulk_upsert(shop, body)
                return 204, None
            case "inventory.variant.get":
                return 200, sandbox.variant_get(shop, *args)
            case "inventory.variant.upsert":
                sandbox.variant_upsert(shop, *args, body)
                return 204, None
            case "items.search":
                return 200, sandbox.items_search(shop, query)
            case _:
                return 200, sandbox.license_expiry(shop, query)

    def control(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any] | None:
        sandbox = self.server.sandbox
        match (method, *parts):
            case ("PUT", "state"):
                # The shape GET /_sandbox/state answers: a benchmark builds a large state in
                # its own process and loads it here, with no --state file saved every 30 s.
                sandbox.load(body)
                return 200, sandbox.health()
            case ("PUT", "clock"):
                at = body.get("now")
                sandbox.clock_set(dt.datetime.fromisoformat(at) if at else None)
                return 200, {"now": sandbox.clock().isoformat()}
            case ("POST", "tick"):
                sandbox.tick()
                return 200, {"ok": True}
            case ("PUT", "content-types"):
                # Which Content-Type forms to take (RMS's own is disputed: endpoints.py).
                sandbox.accepted_content_types = tuple(str(v).lower() for v in body["accept"])
                return 200, {"accept": list(sandbox.accepted_content_types)}
            case ("POST", "generate"):
                placed = sandbox.generate(int(body.get("count", 1)))
                return 200, {"orders": [order.order_number for order in placed]}
            case ("POST", "shops"):
                expires = body.get("licenseExpiresAt")
                shop = sandbox.shop_add(
                    shop_id=body["shopId"],
                    service_secret=body["serviceSecret"],
                    license_key=body["licenseKey"],
                    license_expires_at=dt.datetime.fromisoformat(expires) if expires else None,
                    item_api=bool(body.get("itemApi", True)),
                    items=body.get("items", []),
                )
                return 201, {"shopId": shop.shop_id, "items": len(shop.items)}
            case ("POST", "shops", shop_id, "items"):
                item = sandbox.item_add(shop_id, body)
                return 201, {"manageNumber": item.manage_number, "variants": sorted(item.variants)}
            case ("POST", "shops", shop_id, "licence"):
                sandbox.license_expiry_set(shop_id, dt.datetime.fromisoformat(body["expiresAt"]))
                return 200, {"ok": True}
            case ("PUT", "shops", shop_id, "stock"):
                sandbox.stock_set(
                    shop_id, body["manageNumber"], body["variantId"], int(body["quantity"])
                )
                return 200, {"ok": True}
            case ("GET", "shops", shop_id, "inventory"):
                return 200, {"inventory": sandbox.stock_rows(shop_id)}
            case ("GET", "shops", shop_id, "orders"):
                return 200, {"orders": sandbox.orders_json(shop_id)}
            case ("POST", "shops", shop_id, "orders"):
                at = body.get("orderDatetime")
                order = sandbox.order_place(
                    shop_id,
                    body["lines"],
                    ordered_at=dt.datetime.fromisoformat(at) if at else None,
                    allow_oversell=bool(body.get("allowOversell", False)),
                )
                return 201, order_json(order)
            case ("POST", "shops", shop_id, "orders", number, "progress"):
                order = sandbox.order_progress(shop_id, number, int(body["orderProgress"]))
                return 200, order_json(order)
            case ("POST", "shops", shop_id, "orders", number, "units"):
                order = sandbox.order_units(
                    shop_id, number, int(body.get("line", 0)), int(body["units"])
                )
                return 200, order_json(order)
        return None


class SandboxServer(LoopbackServer):
    """The RMS sandbox on loopback: `SandboxServer(Sandbox()).start()` in tests."""

    sandbox: Sandbox
    handler_class = Handler
    thread_name = "rms-sandbox"
