"""The RMS sandbox: its shops and their state file, composed with RMS's API families.

`orders.py`, `inventory.py`, `items.py` and `auth.py` hold the endpoints, `errors.py` RMS's
error shapes, `model.py` the data; the kit (`sync.sandbox`) brings faults, the call log,
rate limits and persistence. Everything is plain Python under one lock; `server.py` only
moves bytes. Request validation, answer shapes, error codes and HTTP statuses follow
rakuten/RMS.md.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from sync.sandbox.calls import Call
from sync.sandbox.errors import ApiError
from sync.sandbox.faults import FAULT_KINDS, Fault
from sync.sandbox.persistence import parse_datetime
from sync.sandbox.state import SandboxState

from ..endpoints import DEFAULT_RATE_LIMITS
from ..types import JST
from . import errors
from .auth import AuthApi
from .errors import MALFORMED_BODY, gateway_error, inventory_error, order_error
from .inventory import ID_RE, InventoryApi
from .items import ItemApi
from .model import Line, SandboxItem, SandboxOrder, Shop, Stock, Variant, iso, jst_now, rms
from .orders import CONFIRM, GET, RMS_DT_RE, SEARCH, OrderApi

# How many of its matches an order search reaches (RMS: 15,000); read at each search.
SEARCH_CAP = 15_000

__all__ = [
    "CONFIRM",
    "FAULT_KINDS",
    "GET",
    "ID_RE",
    "RMS_DT_RE",
    "SEARCH",
    "SEARCH_CAP",
    "ApiError",
    "Call",
    "Fault",
    "Line",
    "Sandbox",
    "SandboxItem",
    "SandboxOrder",
    "Shop",
    "Stock",
    "Variant",
    "gateway_error",
    "inventory_error",
    "iso",
    "jst_now",
    "order_error",
    "rms",
]


class Sandbox(OrderApi, InventoryApi, ItemApi, AuthApi, SandboxState):
    """Shops, each with its catalogue, stock and orders, and the RMS API over them."""

    malformed_body = MALFORMED_BODY

    def __init__(
        self,
        *,
        rate_limits: dict[str, float] | None = None,
        clock: Callable[[], dt.datetime] = jst_now,
        hang_seconds: float = 40.0,
        confirm_delay: float = 2.0,
        seed: int = 0,
    ) -> None:
        super().__init__(
            rate_limits={**DEFAULT_RATE_LIMITS, **(rate_limits or {})}, hang_seconds=hang_seconds
        )
        self.shops: dict[str, Shop] = {}
        self.clock = clock
        self._running_clock = clock
        self.confirm_delay = dt.timedelta(seconds=confirm_delay)
        self.random = random.Random(seed)  # noqa: S311 - fake data, not security

    @property
    def search_cap(self) -> int:
        return SEARCH_CAP

    def clock_set(self, at: dt.datetime | None) -> None:
        """Stop the sandbox's clock at `at` (a benchmark's simulated minute: orders placed
        and moved are stamped with it, searches are checked against it), or let it run
        again (None). Rate limits keep counting real seconds."""
        with self.lock:
            if at is None:
                self.clock = self._running_clock
            else:
                stopped = at.astimezone(JST).replace(microsecond=0)
                self.clock = lambda: stopped

    # --- shops ------------------------------------------------------------------------

    def shop_add(
        self,
        *,
        shop_id: str,
        service_secret: str,
        license_key: str,
        license_expires_at: dt.datetime | None = None,
        item_api: bool = True,
        items: Iterable[dict[str, Any]] = (),
    ) -> Shop:
        with self.lock:
            if shop_id in self.shops:
                raise ApiError(409, {"error": f"shop {shop_id} exists"})
            if any(s.license_key == license_key for s in self.shops.values()):
                raise ApiError(409, {"error": "licence key already used by another shop"})
            shop = Shop(
                shop_id=shop_id,
                number=100_000 + len(self.shops) + 1,
                service_secret=service_secret,
                license_key=license_key,
                license_expires_at=license_expires_at or self.clock() + dt.timedelta(days=90),
                item_api=item_api,
            )
            self.shops[shop_id] = shop
            for item in items:
                self.item_add(shop_id, item)
            return shop

    def shop(self, shop_id: str) -> Shop:
        try:
            return self.shops[shop_id]
        except KeyError:
            raise ApiError(404, {"error": f"no shop {shop_id}"}) from None

    # --- the kit's hooks ----------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"ok": True, "shops": sorted(self.shops)}

    def fault_error(self, fault: Fault) -> ApiError:
        return errors.fault_error(fault)

    def rate_limited_error(self, retry_after: float) -> ApiError:
        return errors.too_many_requests(retry_after)

    def platform_reset(self) -> None:
        self.shops.clear()

    def platform_dump(self) -> dict[str, Any]:
        shops = []
        for shop in self.shops.values():
            raw = asdict(shop)
            raw["stock"] = [
                {"manageNumber": mn, "variantId": vid, **asdict(row)}
                for (mn, vid), row in shop.stock.items()
            ]
            shops.append(raw)
        return {"shops": shops}

    def platform_load(self, data: dict[str, Any]) -> None:
        self.shops.clear()
        for raw in data.get("shops", []):
            shop = Shop(
                shop_id=raw["shop_id"],
                number=raw["number"],
                service_secret=raw["service_secret"],
                license_key=raw["license_key"],
                license_expires_at=parse_datetime(raw["license_expires_at"]),
                item_api=raw.get("item_api", True),
                next_order=raw.get("next_order", 1),
                next_detail=raw.get("next_detail", 1),
            )
            for mn, item in raw.get("items", {}).items():
                shop.items[mn] = SandboxItem(
                    manage_number=item["manage_number"],
                    item_number=item["item_number"],
                    title=item["title"],
                    variants={vid: Variant(**v) for vid, v in item["variants"].items()},
                    created=parse_datetime(item["created"]),
                    updated=parse_datetime(item["updated"]),
                )
            for row in raw.get("stock", []):
                shop.stock[(row["manageNumber"], row["variantId"])] = Stock(
                    quantity=row["quantity"],
                    created=parse_datetime(row["created"]),
                    updated=parse_datetime(row["updated"]),
                )
            for number, order in raw.get("orders", {}).items():
                shop.orders[number] = SandboxOrder(
                    order_number=order["order_number"],
                    progress=order["progress"],
                    ordered_at=parse_datetime(order["ordered_at"]),
                    lines=[Line(**line) for line in order["lines"]],
                    modify_flag=order.get("modify_flag", 0),
                    confirmed_at=parse_datetime(order.get("confirmed_at")),
                    shipped_at=parse_datetime(order.get("shipped_at")),
                    changed_at=parse_datetime(order.get("changed_at")),
                )
            self.shops[shop.shop_id] = shop
