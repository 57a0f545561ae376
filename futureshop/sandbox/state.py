"""The futureshop sandbox: its shops and their state file, composed with futureshop's API families.

`auth.py` holds the token endpoint and the gate, `inventory.py` the inventory update (spec 003)
and search, `orders.py` the order search and detail and what buyers do, `errors.py` the error
shapes, `model.py` the data; the kit (`sync.sandbox`) brings faults, the call log, rate limits
and persistence. Everything is plain Python under one lock; `server.py` only moves bytes.

What the official texts leave open is configurable here (FUTURESHOP.md): the token lifetime,
the HTTP status of a "failed" update, the cancelled status, page sizes, the stock ceiling,
the branch number length, and whether a last page carries `"nextUrl": null` or no key.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault
from sync.sandbox.persistence import parse_datetime
from sync.sandbox.state import SandboxState

from . import errors
from .auth import AuthApi
from .errors import MALFORMED_BODY
from .inventory import InventoryApi
from .model import Line, Order, Product, Shop, Sku, Token, jst_now
from .orders import OrderApi

# Endpoint names (faults, rate limits, the call log) and their (method, path).
ENDPOINTS = {
    "token": ("POST", "/oauth/token"),
    "inventory.update": ("POST", "/admin-api/v1/inventory"),
    "inventory.search": ("GET", "/admin-api/v1/inventory"),
    "shipping.search": ("GET", "/admin-api/v1/shipping"),
    "order.get": ("GET", "/admin-api/v1/orders/{orderNo}"),
}
# Public clients wait a second between calls; the official limit is not published.
DEFAULT_RATE_LIMITS = dict.fromkeys(ENDPOINTS, 1.0)

__all__ = ["DEFAULT_RATE_LIMITS", "ENDPOINTS", "ApiError", "Sandbox", "Shop"]


class Sandbox(OrderApi, InventoryApi, AuthApi, SandboxState):
    """Shops, each with its products, stock, orders and tokens, and the futureshop API over them."""

    malformed_body = MALFORMED_BODY

    def __init__(
        self,
        *,
        rate_limits: dict[str, float] | None = None,
        clock: Callable[[], dt.datetime] = jst_now,
        hang_seconds: float = 40.0,
        seed: int = 0,
        token_lifetime: int = 3600,
        failed_status: int = 200,
        cancelled_status: str = "CANCELLED",
        inventory_page_size: int = 100,
        shipping_page_size: int = 100,
        stock_max: int = 999_999_999,
        branch_no_max: int = 100,
        next_url_on_last_page: str = "omit",
        order_date_keys: tuple[str, ...] = ("date",),
    ) -> None:
        super().__init__(
            rate_limits={**DEFAULT_RATE_LIMITS, **(rate_limits or {})}, hang_seconds=hang_seconds
        )
        self.shops: dict[str, Shop] = {}
        self.tokens: dict[str, Token] = {}
        self.clock = clock
        self.random = random.Random(seed)  # noqa: S311 - fake data, not security
        self.token_lifetime = token_lifetime
        # No HTTP status is documented for a (partly) failed update: 200 unless set.
        self.failed_status = failed_status
        # NOT confirmed: futureshop's value for a cancelled order.
        self.cancelled_status = cancelled_status
        self.inventory_page_size = inventory_page_size
        self.shipping_page_size = shipping_page_size
        self.stock_max = stock_max
        # verticalNo/horizontalNo: 9 bytes in the field table, 100 characters in TooLong's text.
        self.branch_no_max = branch_no_max
        # The captured last pages have no nextUrl key ("omit"); "null" answers "nextUrl": null.
        self.next_url_on_last_page = next_url_on_last_page
        # The captures name the order date "date"; add "orderDate" here to answer both.
        self.order_date_keys = tuple(order_date_keys)

    # Settable at run time through PUT /_sandbox/config (camelCase there).
    CONFIG = {
        "tokenLifetime": ("token_lifetime", int),
        "failedStatus": ("failed_status", int),
        "cancelledStatus": ("cancelled_status", str),
        "inventoryPageSize": ("inventory_page_size", int),
        "shippingPageSize": ("shipping_page_size", int),
        "stockMax": ("stock_max", int),
        "branchNoMax": ("branch_no_max", int),
        "nextUrlOnLastPage": ("next_url_on_last_page", str),
        "orderDateKeys": ("order_date_keys", tuple),
    }

    def config(self) -> dict[str, Any]:
        value = {key: getattr(self, attr) for key, (attr, _) in self.CONFIG.items()}
        return {**value, "orderDateKeys": list(self.order_date_keys)}

    def config_set(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            for key, value in changes.items():
                if key not in self.CONFIG:
                    raise ApiError(400, {"error": f"unknown setting {key}"})
                attr, kind = self.CONFIG[key]
                if kind is tuple and isinstance(value, str):
                    value = [value]
                setattr(self, attr, kind(value))
            if self.next_url_on_last_page not in ("omit", "null"):
                self.next_url_on_last_page = "omit"
                raise ApiError(400, {"error": "nextUrlOnLastPage must be omit or null"})
            return self.config()

    # --- shops and products (the control API) -------------------------------------------

    def shop_add(
        self,
        *,
        shop_key: str,
        client_id: str,
        client_secret: str,
        products: Iterable[dict[str, Any]] = (),
    ) -> Shop:
        with self.lock:
            if shop_key in self.shops:
                raise ApiError(409, {"error": f"shop {shop_key} exists"})
            shop = Shop(shop_key=shop_key, client_id=client_id, client_secret=client_secret)
            self.shops[shop_key] = shop
            try:
                for product in products:
                    self.product_add(shop_key, product)
            except Exception:
                del self.shops[shop_key]
                raise
            return shop

    def shop(self, shop_key: str) -> Shop:
        try:
            return self.shops[shop_key]
        except KeyError:
            raise ApiError(404, {"error": f"no shop {shop_key}"}) from None

    def product_add(self, shop_key: str, raw: dict[str, Any]) -> Product:
        """A product: {"productNo", "name", "inventoryEnabled", "skus": [{"skuNo",
        "verticalNo", "horizontalNo", "janCode", "count"}]} ("inventoryList" for "skus"; a
        product without SKUs gets one, skuNo = productNo, with no branch numbers).
        """
        with self.lock:
            shop = self.shop(shop_key)
            product_no = str(raw["productNo"])
            if product_no in shop.products:
                raise ApiError(409, {"error": f"product {product_no} exists"})
            rows = raw.get("skus", raw.get("inventoryList")) or [{"skuNo": product_no}]
            skus = [
                Sku(
                    sku_no=str(row.get("skuNo") or product_no),
                    vertical_no=str(row.get("verticalNo") or ""),
                    horizontal_no=str(row.get("horizontalNo") or ""),
                    jan_code=str(row.get("janCode") or ""),
                    count=int(row.get("count", 0)),
                )
                for row in rows
            ]
            numbers = [s.sku_no for s in skus]
            pairs = [(s.vertical_no, s.horizontal_no) for s in skus]
            if len(set(numbers)) < len(numbers) or len(set(pairs)) < len(pairs):
                raise ApiError(400, {"error": "skuNo and branch numbers must be unique"})
            if any(shop.sku_find(n) for n in numbers):
                raise ApiError(409, {"error": "skuNo already used in this shop"})
            if any(s.count < 0 for s in skus):
                raise ApiError(400, {"error": "count must be 0 or more"})
            product = Product(
                id=int(raw.get("id") or shop.next_product_id),
                product_no=product_no,
                name=str(raw.get("name") or product_no),
                inventory_enabled=bool(raw.get("inventoryEnabled", True)),
                skus=skus,
            )
            shop.next_product_id = max(shop.next_product_id, product.id) + 1
            shop.products[product_no] = product
            return product

    def stock_set(self, shop_key: str, raw: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            product, sku = self._line_sku(self.shop(shop_key), raw)
            count = int(raw["count"])
            if count < 0:
                raise ApiError(400, {"error": "count must be 0 or more"})
            sku.count = count
            return {"productNo": product.product_no, "skuNo": sku.sku_no, "count": sku.count}

    def stock_of(self, shop_key: str, sku_no: str) -> int:
        with self.lock:
            return self._line_sku(self.shop(shop_key), {"skuNo": sku_no})[1].count

    # --- the kit's hooks ----------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"ok": True, "shops": sorted(self.shops)}

    def fault_error(self, fault: Fault) -> ApiError:
        return errors.fault_error(fault)

    def rate_limited_error(self, retry_after: float) -> ApiError:
        return errors.too_many_requests(retry_after)

    def platform_reset(self) -> None:
        self.shops.clear()
        self.tokens.clear()

    def platform_dump(self) -> dict[str, Any]:
        return {
            "shops": [asdict(shop) for shop in self.shops.values()],
            "tokens": [asdict(token) for token in self.tokens.values()],
            "tokenLifetime": self.token_lifetime,
        }

    def platform_load(self, data: dict[str, Any]) -> None:
        self.shops.clear()
        self.tokens.clear()
        for raw in data.get("shops", []):
            shop = Shop(
                shop_key=raw["shop_key"],
                client_id=raw["client_id"],
                client_secret=raw["client_secret"],
                next_product_id=raw.get("next_product_id", 1),
                next_order=raw.get("next_order", 1),
            )
            for product_no, product in raw.get("products", {}).items():
                shop.products[product_no] = Product(
                    id=product["id"],
                    product_no=product["product_no"],
                    name=product["name"],
                    inventory_enabled=product["inventory_enabled"],
                    skus=[Sku(**sku) for sku in product["skus"]],
                )
            for order_no, order in raw.get("orders", {}).items():
                shop.orders[order_no] = Order(
                    order_no=order["order_no"],
                    status=order["status"],
                    ordered_at=parse_datetime(order["ordered_at"]),
                    updated_at=parse_datetime(order["updated_at"]),
                    lines=[Line(**line) for line in order["lines"]],
                    payment_status=order.get("payment_status", "NOTRECEIVED"),
                )
            self.shops[shop.shop_key] = shop
        for raw in data.get("tokens", []):
            self.tokens[raw["token"]] = Token(
                raw["token"], raw["shop_key"], parse_datetime(raw["expires_at"])
            )
        self.token_lifetime = int(data.get("tokenLifetime", self.token_lifetime))
