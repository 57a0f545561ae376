"""HTTP for the futureshop sandbox: futureshop's routes and its part of the control API.

The kit (`sync.sandbox.server`) serves on loopback only, parses and answers; the control API
under /_sandbox/ has no authentication. Besides the kit's routes (health, state, reset, save,
rate-limits, faults, calls) it serves:

    GET  config                          PUT config {"failedStatus": 207, ...}
    POST shops {"shopKey", "clientId", "clientSecret", "products": [...]}
    POST shops/{shopKey}/products {"productNo", "name", "inventoryEnabled", "skus": [...]}
    GET  shops/{shopKey}/stock           PUT shops/{shopKey}/stock {"skuNo" | "productNo" +
         "verticalNo"/"horizontalNo", "count"}       GET shops/{shopKey}/stock/{skuNo}
    GET  shops/{shopKey}/orders          POST shops/{shopKey}/orders {"lines": [{"skuNo" |
         "productNo" + "verticalNo"/"horizontalNo", "count"}], "allowOversell", "orderDate",
         "status"}
    POST shops/{shopKey}/orders/{orderNo}/cancel
    POST shops/{shopKey}/orders/{orderNo}/lines {"line": index | "skuNo", "count", "allowOversell"}
    POST shops/{shopKey}/orders/{orderNo}/status {"status"}
    POST tokens/expire {"shop": optional}   PUT token-lifetime {"seconds"}
    POST generate {"count"}
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sync.sandbox.errors import ApiError
from sync.sandbox.server import LoopbackServer, SandboxHandler, route

from .errors import MESSAGES, api_error
from .model import parse_fs_datetime
from .orders import AWAITING_PAYMENT, order_json
from .state import ENDPOINTS, Sandbox

__all__ = ["ROUTES", "Handler", "Sandbox", "SandboxServer"]

ROUTES = [route(name, method, path) for name, (method, path) in ENDPOINTS.items()]
TOKEN_PATH = ENDPOINTS["token"][1]


class Handler(SandboxHandler):
    """futureshop on the kit's handler: its paths, its two kinds of auth, its control routes."""

    server: SandboxServer
    routes = ROUTES
    logger = logging.getLogger("futureshop.sandbox")
    server_version = "futureshop-Sandbox"

    def route_error(self, path: str, path_matched: bool) -> ApiError:
        if path_matched:
            return api_error(405, "MethodNotAllowed", f"{self.command} {path} はできません")
        return api_error(404, "NotFound", f"{path} は存在しません")

    def authenticate(self) -> Any:
        sandbox = self.server.sandbox
        shop_key = self.headers.get("X-SHOP-KEY")
        authorization = self.headers.get("Authorization")
        if urlsplit(self.path).path == TOKEN_PATH:
            return sandbox.client_authenticate(authorization, shop_key)
        return sandbox.token_authenticate(authorization, shop_key)

    def body_parse(self, endpoint: str, method: str, raw: bytes) -> Any:
        if method != "POST":
            return None
        if endpoint == "token":  # application/x-www-form-urlencoded
            try:
                return dict(parse_qsl(raw.decode()))
            except UnicodeDecodeError:
                return {}
        try:
            return json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            raise api_error(400, "WrongFormat", MESSAGES["WrongFormat"]) from None

    def base_url(self) -> str:
        """The absolute URL a nextUrl starts with: as the client reached the sandbox."""
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.server.url

    def call(
        self, endpoint: str, shop: Any, args: tuple[str, ...], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        sandbox = self.server.sandbox
        path = urlsplit(self.path).path
        match endpoint:
            case "token":
                return 200, sandbox.token_issue(shop, body)
            case "inventory.update":
                return sandbox.inventory_update(shop, body)
            case "inventory.search":
                return 200, sandbox.inventory_search(shop, query, self.base_url(), path)
            case "shipping.search":
                return 200, sandbox.shipping_search(shop, query, self.base_url(), path)
            case _:
                return 200, sandbox.order_detail(shop, args[0])

    def control(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any] | None:
        sandbox = self.server.sandbox
        parts = [unquote(part) for part in parts]
        match (method, *parts):
            case ("GET", "config"):
                return 200, sandbox.config()
            case ("PUT", "config"):
                return 200, sandbox.config_set(body)
            case ("PUT", "token-lifetime"):
                return 200, sandbox.config_set({"tokenLifetime": int(body["seconds"])})
            case ("POST", "tokens", "expire"):
                return 200, {"expired": sandbox.tokens_expire(body.get("shop"))}
            case ("POST", "generate"):
                placed = sandbox.generate(int(body.get("count", 1)))
                return 200, {"orders": [order.order_no for order in placed]}
            case ("POST", "shops"):
                shop = sandbox.shop_add(
                    shop_key=body["shopKey"],
                    client_id=body["clientId"],
                    client_secret=body["clientSecret"],
                    products=body.get("products", []),
                )
                return 201, {"shopKey": shop.shop_key, "products": sorted(shop.products)}
            case ("POST", "shops", shop_key, "products"):
                product = sandbox.product_add(shop_key, body)
                return 201, {"productNo": product.product_no, "id": product.id}
            case ("GET", "shops", shop_key, "stock"):
                return 200, {"stock": sandbox.stock_rows(sandbox.shop(shop_key))}
            case ("PUT", "shops", shop_key, "stock"):
                return 200, sandbox.stock_set(shop_key, body)
            case ("GET", "shops", shop_key, "stock", sku_no):
                return 200, {"skuNo": sku_no, "count": sandbox.stock_of(shop_key, sku_no)}
            case ("GET", "shops", shop_key, "orders"):
                return 200, {"orders": sandbox.orders_json(shop_key)}
            case ("POST", "shops", shop_key, "orders"):
                at = body.get("orderDate")
                order = sandbox.order_place(
                    shop_key,
                    body["lines"],
                    allow_oversell=bool(body.get("allowOversell", False)),
                    ordered_at=parse_fs_datetime(at) if at else None,
                    status=str(body.get("status") or AWAITING_PAYMENT),
                )
                return 201, order_json(order)
            case ("POST", "shops", shop_key, "orders", order_no, "cancel"):
                return 200, order_json(sandbox.order_cancel(shop_key, order_no))
            case ("POST", "shops", shop_key, "orders", order_no, "status"):
                return 200, order_json(sandbox.order_status(shop_key, order_no, body["status"]))
            case ("POST", "shops", shop_key, "orders", order_no, "lines"):
                order = sandbox.order_change(
                    shop_key,
                    order_no,
                    line=int(body["line"]) if body.get("line") is not None else None,
                    sku_no=body.get("skuNo"),
                    count=int(body["count"]),
                    allow_oversell=bool(body.get("allowOversell", False)),
                )
                return 200, order_json(order)
        return None


class SandboxServer(LoopbackServer):
    """The futureshop sandbox on loopback: `SandboxServer(Sandbox()).start()` in tests."""

    sandbox: Sandbox
    handler_class = Handler
    thread_name = "futureshop-sandbox"
