"""futureshop's order APIs (shipping search, order detail) and what buyers and shops do to orders.

Statuses: AWAITING_PAYMENT and COMPLETED are seen in real answers; the value futureshop uses
for a cancelled order is NOT confirmed (FUTURESHOP.md): `cancelled_status`, "CANCELLED"
unless set. Placing an order lowers its SKUs' regular stock, cancelling gives it back,
changing a line's count moves stock by the difference; each moves `dateLastUpdated`.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sync.sandbox.errors import ApiError

from .errors import api_error, invalid_date
from .inventory import cursor_decode, cursor_encode, next_url
from .model import Line, Order, Product, Shop, Sku, fs_datetime, parse_fs_datetime

AWAITING_PAYMENT = "AWAITING_PAYMENT"
COMPLETED = "COMPLETED"


def order_json(order: Order) -> dict[str, Any]:
    """An order as the control API shows it (a test's view, not futureshop's shape)."""
    return {
        "orderNo": order.order_no,
        "status": order.status,
        "orderDate": fs_datetime(order.ordered_at),
        "dateLastUpdated": fs_datetime(order.updated_at),
        "lines": [
            {"productNo": line.product_no, "skuNo": line.sku_no, "count": line.count}
            for line in order.lines
        ],
    }


class OrderApi:
    """Part of `Sandbox`: orders placed, changed and cancelled, and the order APIs over them."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shops: dict[str, Shop]
    shop: Callable[[str], Shop]
    random: random.Random
    cancelled_status: str
    shipping_page_size: int
    next_url_on_last_page: str
    order_date_keys: tuple[str, ...]

    # --- what buyers and the shop do (the control API) ------------------------------------

    def _line_sku(self, shop: Shop, raw: dict[str, Any]) -> tuple[Product, Sku]:
        if raw.get("skuNo") is not None:
            found = shop.sku_find(str(raw["skuNo"]))
        else:
            product = shop.products.get(str(raw.get("productNo")))
            sku = product and product.sku(
                str(raw.get("verticalNo") or ""), str(raw.get("horizontalNo") or "")
            )
            found = (product, sku) if product and sku else None
        if found is None:
            raise ApiError(404, {"error": f"no SKU {raw}"})
        return found

    @staticmethod
    def _take(product: Product, sku: Sku, count: int, allow_oversell: bool) -> None:
        """Lower stock for an order (never below zero); a product without stock keeps none."""
        if not product.inventory_enabled:
            return
        if count > sku.count and not allow_oversell:
            raise ApiError(409, {"error": f"out of stock: {sku.sku_no} has {sku.count}"})
        sku.count = max(sku.count - count, 0)

    @staticmethod
    def _give_back(shop: Shop, line: Line, count: int) -> None:
        found = shop.sku_find(line.sku_no)
        if found and found[0].inventory_enabled:
            found[1].count += count

    def order_place(
        self,
        shop_key: str,
        lines: Iterable[dict[str, Any]],
        *,
        allow_oversell: bool = False,
        ordered_at: dt.datetime | None = None,
        status: str = AWAITING_PAYMENT,
    ) -> Order:
        """A buyer orders: each SKU's regular stock goes down, refused beyond stock."""
        with self.lock:
            shop = self.shop(shop_key)
            wanted = []
            for raw in lines:
                count = int(raw.get("count", 1))
                if count < 1:
                    raise ApiError(400, {"error": f"count must be at least 1: {raw}"})
                wanted.append((*self._line_sku(shop, raw), count))
            if not wanted:
                raise ApiError(400, {"error": "an order needs at least one line"})
            demand: Counter[str] = Counter()
            for _, sku, count in wanted:
                demand[sku.sku_no] += count
            for product, sku, _ in wanted:
                short = product.inventory_enabled and demand[sku.sku_no] > sku.count
                if short and not allow_oversell:
                    raise ApiError(409, {"error": f"out of stock: {sku.sku_no} has {sku.count}"})
            for product, sku, count in wanted:
                self._take(product, sku, count, allow_oversell=True)
            now = self.clock()
            order = Order(
                order_no=str(100_000_000_000 + shop.next_order),
                status=status,
                ordered_at=ordered_at or now,
                updated_at=now,
                lines=[Line(p.product_no, s.sku_no, p.name, count) for p, s, count in wanted],
            )
            shop.next_order += 1
            shop.orders[order.order_no] = order
            return order

    def order(self, shop_key: str, order_no: str) -> Order:
        try:
            return self.shop(shop_key).orders[order_no]
        except KeyError:
            raise ApiError(404, {"error": f"no order {order_no}"}) from None

    def orders_json(self, shop_key: str) -> list[dict[str, Any]]:
        with self.lock:
            return [order_json(order) for order in self.shop(shop_key).orders.values()]

    def order_cancel(self, shop_key: str, order_no: str) -> Order:
        """Cancel an order: its stock comes back."""
        with self.lock:
            shop = self.shop(shop_key)
            order = self.order(shop_key, order_no)
            if order.status == self.cancelled_status:
                raise ApiError(409, {"error": "order is already cancelled"})
            for line in order.lines:
                self._give_back(shop, line, line.count)
            order.status = self.cancelled_status
            order.updated_at = self.clock()
            return order

    def order_status(self, shop_key: str, order_no: str, status: str) -> Order:
        """Move an order to another status (the cancelled one cancels it)."""
        with self.lock:
            if status == self.cancelled_status:
                return self.order_cancel(shop_key, order_no)
            order = self.order(shop_key, order_no)
            if order.status == self.cancelled_status:
                raise ApiError(409, {"error": "order is cancelled"})
            order.status = status
            order.updated_at = self.clock()
            return order

    def order_change(
        self,
        shop_key: str,
        order_no: str,
        *,
        line: int | None = None,
        sku_no: str | None = None,
        count: int,
        allow_oversell: bool = False,
    ) -> Order:
        """Change one line's count (0 takes it off the order): stock moves by the difference."""
        with self.lock:
            shop = self.shop(shop_key)
            order = self.order(shop_key, order_no)
            if order.status == self.cancelled_status:
                raise ApiError(409, {"error": "order is cancelled"})
            if count < 0:
                raise ApiError(400, {"error": "count must be 0 or more"})
            try:
                target = (
                    next(x for x in order.lines if x.sku_no == sku_no)
                    if sku_no is not None
                    else order.lines[line or 0]
                )
            except (StopIteration, IndexError):
                raise ApiError(400, {"error": "no such line"}) from None
            delta = count - target.count
            if delta > 0:
                found = shop.sku_find(target.sku_no)
                if found:
                    self._take(*found, delta, allow_oversell)
            elif delta < 0:
                self._give_back(shop, target, -delta)
            target.count = count
            order.updated_at = self.clock()
            return order

    def generate(self, count: int) -> list[Order]:
        """Buyers at work: place `count` one- or two-line orders, and cancel a few old ones."""
        placed = []
        with self.lock:
            for _ in range(count):
                in_stock = [
                    (shop, sku)
                    for shop in self.shops.values()
                    for product in shop.products.values()
                    for sku in product.skus
                    if product.inventory_enabled and sku.count > 0
                ]
                if not in_stock:
                    break
                shop, sku = self.random.choice(in_stock)
                placed.append(self.order_place(shop.shop_key, [{"skuNo": sku.sku_no}]))
            for shop in self.shops.values():
                for order in list(shop.orders.values()):
                    if order.status != AWAITING_PAYMENT:
                        continue
                    roll = self.random.random()
                    if roll < 0.03:
                        self.order_cancel(shop.shop_key, order.order_no)
                    elif roll < 0.1:
                        self.order_status(shop.shop_key, order.order_no, COMPLETED)
        return placed

    # --- the API ------------------------------------------------------------------------

    def _product_lines(self, order: Order, detail: bool) -> list[dict[str, Any]]:
        rows = []
        for line in order.lines:
            if line.count == 0:
                continue
            row: dict[str, Any] = {"skuNo": line.sku_no, "name": line.name, "count": line.count}
            if detail:  # only the detail names the product (FUTURESHOP.md)
                row = {"productNo": line.product_no, **row, "preorder": False}
            rows.append(row)
        return rows

    def _dates(self, order: Order) -> dict[str, str]:
        return dict.fromkeys(self.order_date_keys, fs_datetime(order.ordered_at))

    def shipping_search(
        self, shop: Shop, query: dict[str, str], base_url: str, path: str
    ) -> dict[str, Any]:
        """GET /admin-api/v1/shipping: orders placed in [orderDateStart, orderDateEnd], paged."""
        window = []
        for key in ("orderDateStart", "orderDateEnd"):
            value = query.get(key)
            try:
                window.append(parse_fs_datetime(value) if value else None)
            except ValueError:
                raise api_error(400, "InvalidDateFormat", invalid_date(key), key) from None
        start, end = window
        after = None
        if "cursor" in query:
            cursor = cursor_decode(query["cursor"])
            try:
                after = (parse_fs_datetime(cursor["date"]), str(cursor["orderNo"]))
            except (KeyError, TypeError, ValueError):
                raise api_error(
                    400, "InvalidFormat", "cursorの形式に誤りがあります", "cursor"
                ) from None
        with self.lock:
            orders = sorted(shop.orders.values(), key=lambda o: (o.ordered_at, o.order_no))
            orders = [
                o
                for o in orders
                if (start is None or o.ordered_at >= start)
                and (end is None or o.ordered_at <= end)
                and (after is None or (o.ordered_at, o.order_no) > after)
            ]
            page = orders[: self.shipping_page_size]
            answer: dict[str, Any] = {
                "orderList": [
                    {
                        "orderNo": o.order_no,
                        "type": "REGULAR",
                        **self._dates(o),
                        "status": o.status,
                        "shipmentList": [
                            {"shipmentNo": 1, "productList": self._product_lines(o, False)}
                        ],
                    }
                    for o in page
                ]
            }
            if len(orders) > len(page):
                last = page[-1]
                cursor = cursor_encode(
                    {"date": last.ordered_at.isoformat(), "orderNo": last.order_no}
                )
                answer["nextUrl"] = next_url(base_url, path, query, cursor)
            elif self.next_url_on_last_page == "null":
                answer["nextUrl"] = None
            return answer

    def order_detail(self, shop: Shop, order_no: str) -> dict[str, Any]:
        """GET /admin-api/v1/orders/{orderNo} (order_detail_100000020732.json's shape)."""
        with self.lock:
            order = shop.orders.get(order_no)
            if order is None:
                raise api_error(404, "NotFound", f"注文番号 {order_no} は存在しません", "orderNo")
            return {
                "orderNo": order.order_no,
                **self._dates(order),
                "status": order.status,
                "paymentStatus": order.payment_status,
                "dateLastUpdated": fs_datetime(order.updated_at),
                "type": "REGULAR",
                "shipmentList": [
                    {
                        "shipmentNo": 1,
                        "shipped": order.status == COMPLETED,
                        "productList": self._product_lines(order, True),
                    }
                ],
            }
