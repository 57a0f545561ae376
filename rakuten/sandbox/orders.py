"""RMS's Order API (searchOrder, getOrder, confirmOrder) and what buyers and Rakuten do to orders.

Codes marked "sandbox" in comments have no official source: the shape is RMS's, the code is ours.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sync.sandbox.errors import ApiError

from ..types import JST
from .errors import order_error
from .model import Line, SandboxItem, SandboxOrder, Shop, Variant, rms

RMS_DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0900$")
SEARCH = "ORDER_EXT_API_SEARCH_ORDER"
GET = "ORDER_EXT_API_GET_ORDER"
CONFIRM = "ORDER_EXT_API_CONFIRM_ORDER"


def order_json(order: SandboxOrder) -> dict[str, Any]:
    """An order as the control API shows it (not RMS's shape: a test's view of the order)."""
    return {
        "orderNumber": order.order_number,
        "orderProgress": order.progress,
        "orderDatetime": order.ordered_at.isoformat(),
        "modifyFlag": order.modify_flag,
        "lines": [
            {
                "manageNumber": line.manage_number,
                "variantId": line.variant_id,
                "units": line.units,
                "deleted": line.deleted,
            }
            for line in order.lines
        ],
    }


class OrderApi:
    """Part of `Sandbox`: orders placed, moved and changed, and the Order API over them."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shops: dict[str, Shop]
    shop: Callable[[str], Shop]
    random: random.Random
    confirm_delay: dt.timedelta
    search_cap: int  # results a search reaches (RMS: 15,000), however many match

    # --- what buyers and Rakuten do (the control API) ------------------------------

    def order_place(
        self,
        shop_id: str,
        lines: Iterable[dict[str, Any]],
        *,
        ordered_at: dt.datetime | None = None,
        allow_oversell: bool = False,
    ) -> SandboxOrder:
        """A buyer orders: stock goes down at once, as Rakuten does."""
        with self.lock:
            shop = self.shop(shop_id)
            wanted: list[tuple[SandboxItem, Variant, int]] = []
            for raw in lines:
                found = shop.variant(str(raw["manageNumber"]), str(raw["variantId"]))
                units = int(raw.get("units", 1))
                if found is None or units < 1:
                    raise ApiError(400, {"error": f"cannot order {raw}"})
                wanted.append((*found, units))
            if not wanted:
                raise ApiError(400, {"error": "an order needs at least one line"})
            for item, variant, units in wanted:
                row = shop.stock.get((item.manage_number, variant.variant_id))
                have = row.quantity if row else 0
                if have < units and not allow_oversell:
                    raise ApiError(
                        409, {"error": f"out of stock: {item.manage_number}/{variant.variant_id}"}
                    )
            at = ordered_at or self.clock()
            number = f"{shop.number}-{at.astimezone(JST):%Y%m%d}-{shop.next_order:08d}"
            shop.next_order += 1
            order = SandboxOrder(order_number=number, progress=100, ordered_at=at, lines=[])
            for item, variant, units in wanted:
                order.lines.append(
                    Line(
                        item_detail_id=shop.next_detail,
                        manage_number=item.manage_number,
                        item_number=item.item_number,
                        title=item.title,
                        variant_id=variant.variant_id,
                        merchant_sku_id=variant.merchant_sku_id,
                        units=units,
                    )
                )
                shop.next_detail += 1
                shop.stock_shift(item.manage_number, variant.variant_id, -units, self.clock())
            shop.orders[number] = order
            return order

    def order(self, shop_id: str, order_number: str) -> SandboxOrder:
        try:
            return self.shop(shop_id).orders[order_number]
        except KeyError:
            raise ApiError(404, {"error": f"no order {order_number}"}) from None

    def orders_json(self, shop_id: str) -> list[dict[str, Any]]:
        shop = self.shop(shop_id)
        with self.lock:
            return [order_json(order) for order in shop.orders.values()]

    def order_progress(self, shop_id: str, order_number: str, progress: int) -> SandboxOrder:
        """Move an order along; cancelling (900) returns stock where the item restocks."""
        with self.lock:
            shop = self.shop(shop_id)
            order = self.order(shop_id, order_number)
            if order.progress == 900:
                raise ApiError(409, {"error": "order is cancelled"})
            now = self.clock()
            if progress == 900:
                for line in order.lines:
                    found = shop.variant(line.manage_number, line.variant_id)
                    if not line.deleted and found and found[1].restock_on_cancel:
                        shop.stock_shift(
                            line.manage_number, line.variant_id, line.units, self.clock()
                        )
            if progress >= 200 and order.confirmed_at is None:
                order.confirmed_at = now
            if 500 <= progress < 900 and order.shipped_at is None:
                order.shipped_at = now
            order.progress = progress
            order.changed_at = now
            return order

    def order_units(
        self, shop_id: str, order_number: str, line_index: int, units: int
    ) -> SandboxOrder:
        """The shop or buyer changes a line's quantity (0 deletes the line)."""
        with self.lock:
            shop = self.shop(shop_id)
            order = self.order(shop_id, order_number)
            if order.progress >= 500:
                raise ApiError(409, {"error": "order already shipped or cancelled"})
            try:
                line = order.lines[line_index]
            except IndexError:
                raise ApiError(400, {"error": "no such line"}) from None
            if units < 0 or line.deleted:
                raise ApiError(400, {"error": "bad quantity"})
            shop.stock_shift(line.manage_number, line.variant_id, line.units - units, self.clock())
            if units == 0:
                line.deleted = True
            else:
                line.units = units
            order.modify_flag = 1
            order.changed_at = self.clock()
            return order

    def tick(self) -> None:
        """Rakuten's own processing: a confirmed order leaves 200 for 300 after a moment."""
        with self.lock:
            now = self.clock()
            for shop in self.shops.values():
                for order in shop.orders.values():
                    if (
                        order.progress == 200
                        and order.confirmed_at
                        and now - order.confirmed_at >= self.confirm_delay
                    ):
                        order.progress = 300
                        order.changed_at = now

    def generate(self, count: int) -> list[SandboxOrder]:
        """Buyers at work: place `count` orders and move some older ones along."""
        placed = []
        with self.lock:
            shops = [shop for shop in self.shops.values() if shop.stock]
            for _ in range(count):
                if not shops:
                    break
                shop = self.random.choice(shops)
                in_stock = [
                    key
                    for key, row in shop.stock.items()
                    if row.quantity > 0 and shop.variant(*key)
                ]
                if not in_stock:
                    continue
                lines = [
                    {"manageNumber": mn, "variantId": vid, "units": 1}
                    for mn, vid in self.random.sample(
                        in_stock, min(len(in_stock), self.random.choice((1, 1, 2)))
                    )
                ]
                placed.append(self.order_place(shop.shop_id, lines))
            now = self.clock()
            for shop in self.shops.values():
                for order in list(shop.orders.values()):
                    age = (now - order.ordered_at).total_seconds()
                    roll = self.random.random()
                    if order.progress == 100 and roll < 0.05:
                        self.order_progress(shop.shop_id, order.order_number, 900)
                    elif order.progress == 100 and roll < 0.08 and order.lines[0].units > 1:
                        self.order_units(shop.shop_id, order.order_number, 0, 1)
                    elif order.progress == 300 and age > 120 and roll < 0.2:
                        self.order_progress(shop.shop_id, order.order_number, 500)
        return placed

    # --- the Order API ------------------------------------------------------------

    def _rms_datetime(self, body: dict[str, Any], key: str) -> dt.datetime:
        value = body.get(key)
        if value in (None, ""):
            raise order_error(400, f"{SEARCH}_ERROR_010", f"{key}が指定されていません。")
        if not isinstance(value, str) or not RMS_DT_RE.match(value):
            raise order_error(400, f"{SEARCH}_ERROR_011", f"{key}の形式が不正です。")
        try:
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            raise order_error(400, f"{SEARCH}_ERROR_011", f"{key}の形式が不正です。") from None

    def order_search(self, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
        date_type = body.get("dateType")
        if date_type is None:
            raise order_error(400, f"{SEARCH}_ERROR_009", "dateTypeが指定されていません。")
        if date_type not in (1, 2, 3, 4, 5, 6):
            raise order_error(400, f"{SEARCH}_ERROR_012", "dateTypeの値が不正です。")  # sandbox
        start = self._rms_datetime(body, "startDatetime")
        end = self._rms_datetime(body, "endDatetime")
        now = self.clock()
        if start < now - dt.timedelta(days=730):
            raise order_error(
                400, f"{SEARCH}_ERROR_013", "startDatetimeは730日以内です。"
            )  # sandbox
        if end < start or end - start > dt.timedelta(days=63):
            raise order_error(400, f"{SEARCH}_ERROR_014", "期間は63日以内です。")  # sandbox
        progress = body.get("orderProgressList")
        if progress is not None and (
            not isinstance(progress, list) or any(p not in range(100, 1000, 100) for p in progress)
        ):
            raise order_error(
                400, f"{SEARCH}_ERROR_015", "orderProgressListの値が不正です。"
            )  # sandbox
        paging = body.get("PaginationRequestModel")
        if not isinstance(paging, dict):
            raise order_error(
                400, f"{SEARCH}_ERROR_010", "PaginationRequestModelが指定されていません。"
            )
        amount = paging.get("requestRecordsAmount", 30)
        page = paging.get("requestPage", 1)
        sorts = paging.get("SortModelList") or paging.get("sortModelList") or []
        if (
            not isinstance(amount, int)
            or not 1 <= amount <= 1000
            or not isinstance(page, int)
            or page < 1
        ):
            raise order_error(400, f"{SEARCH}_ERROR_016", "ページングの値が不正です。")  # sandbox
        direction = 1
        for sort in sorts:
            if sort.get("sortColumn") != 1 or sort.get("sortDirection") not in (1, 2):
                raise order_error(400, f"{SEARCH}_ERROR_017", "並び順の値が不正です。")  # sandbox
            direction = sort["sortDirection"]

        def stamp(order: SandboxOrder) -> dt.datetime | None:
            if date_type == 1:
                return order.ordered_at
            if date_type in (2, 3):
                return order.confirmed_at
            if date_type in (4, 5):
                return order.shipped_at
            return None

        with self.lock:
            hits = [
                order
                for order in shop.orders.values()
                if (at := stamp(order)) is not None
                and start <= at <= end
                and (progress is None or order.progress in progress)
            ]
        hits.sort(key=lambda o: (o.ordered_at, o.order_number), reverse=direction == 2)
        if not hits:
            return {
                "orderNumberList": [],
                "MessageModelList": [
                    {
                        "messageType": "INFO",
                        "messageCode": f"{SEARCH}_INFO_102",
                        "message": "注文検索結果が0件です。",
                    }
                ],
                "PaginationResponseModel": {
                    "totalRecordsAmount": None,
                    "totalPages": None,
                    "requestPage": None,
                },
            }
        reachable = hits[: self.search_cap]
        pages = math.ceil(len(reachable) / amount)
        chunk = reachable[(page - 1) * amount : page * amount]
        return {
            "orderNumberList": [order.order_number for order in chunk],
            "MessageModelList": [
                {
                    "messageType": "INFO",
                    "messageCode": f"{SEARCH}_INFO_101",
                    "message": "注文検索に成功しました。",
                }
            ],
            "PaginationResponseModel": {
                "totalRecordsAmount": len(hits),
                "totalPages": pages,
                "requestPage": page,
            },
        }

    @staticmethod
    def _order_numbers(body: dict[str, Any], prefix: str) -> list[str]:
        numbers = body.get("orderNumberList")
        if not numbers or not isinstance(numbers, list):
            raise order_error(400, f"{prefix}_ERROR_001", "orderNumberListが指定されていません。")
        if len(numbers) > 100:
            raise order_error(400, f"{prefix}_ERROR_002", "orderNumberListは100件までです。")
        if any(not isinstance(n, str) for n in numbers):
            raise order_error(400, f"{prefix}_ERROR_003", "orderNumberの形式が不正です。")
        return numbers

    def _order_model(self, shop: Shop, order: SandboxOrder) -> dict[str, Any]:
        items = []
        for line in order.lines:
            found = shop.variant(line.manage_number, line.variant_id)
            restock = found[1].restock_on_cancel if found else True
            items.append(
                {
                    "itemDetailId": line.item_detail_id,
                    "itemName": line.title,
                    "itemId": 10_000_000 + line.item_detail_id,
                    "itemNumber": line.item_number,
                    "manageNumber": line.manage_number,
                    "price": 1000,
                    "units": line.units,
                    "includePostageFlag": 0,
                    "includeTaxFlag": 1,
                    "priceTaxIncl": 1100,
                    "inventoryType": 2,
                    "restoreInventoryFlag": 0 if restock else 2,
                    "deleteItemFlag": 1 if line.deleted else 0,
                    "SkuModelList": [
                        {
                            "variantId": line.variant_id,
                            "merchantDefinedSkuId": line.merchant_sku_id,
                            "skuInfo": line.variant_id,
                        }
                    ],
                }
            )
        return {
            "orderNumber": order.order_number,
            "orderProgress": order.progress,
            "subStatusId": None,
            "subStatusName": None,
            "orderDatetime": rms(order.ordered_at),
            "shopOrderCfmDatetime": rms(order.confirmed_at),
            "orderFixDatetime": rms(order.confirmed_at),
            "shippingInstDatetime": None,
            "shippingCmplRptDatetime": rms(order.shipped_at),
            "orderType": 1,
            "modifyFlag": order.modify_flag,
            "goodsPrice": 1000 * sum(line.units for line in order.lines),
            "totalPrice": 1100 * sum(line.units for line in order.lines),
            "OrdererModel": {
                "familyName": "楽天",
                "firstName": "太郎",
                "emailAddress": "buyer@example.jp",
            },
            "ChangeReasonModelList": [],
            "PackageModelList": [
                {
                    "basketId": order.lines[0].item_detail_id,
                    "packageDeleteFlag": 0,
                    "postagePrice": 0,
                    "ItemModelList": items,
                }
            ],
        }

    def order_get(self, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
        numbers = self._order_numbers(body, GET)
        version = body.get("version")
        if version is None:
            raise order_error(400, f"{GET}_ERROR_004", "versionが指定されていません。")
        if not isinstance(version, int) or version < 7:
            raise order_error(400, f"{GET}_ERROR_005", "versionの値が不正です。")
        with self.lock:
            found = [shop.orders[n] for n in numbers if n in shop.orders]
            models = [self._order_model(shop, order) for order in found]
        messages = [
            {
                "messageType": "INFO",
                "messageCode": f"{GET}_INFO_101",
                "message": f"受注情報取得に成功しました。(取得件数{len(found)}件)",
            }
        ] + [
            {
                "messageType": "INFO",
                "messageCode": f"{GET}_INFO_102",
                "message": "指定された受注番号が見つかりません。",
                "orderNumber": number,
            }
            for number in numbers
            if number not in shop.orders
        ]
        return {"MessageModelList": messages, "version": version, "OrderModelList": models}

    def order_confirm(self, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
        numbers = self._order_numbers(body, CONFIRM)
        messages = []
        confirmed = 0
        with self.lock:
            now = self.clock()
            for number in numbers:
                order = shop.orders.get(number)
                if order is None:
                    messages.append(
                        ("ERROR", f"{CONFIRM}_ERROR_004", "受注番号が存在しません。", number)
                    )
                elif order.progress != 100:
                    messages.append(
                        ("ERROR", f"{CONFIRM}_ERROR_005", "注文確認待ちではありません。", number)
                    )
                else:
                    order.progress = 200
                    order.confirmed_at = order.changed_at = now
                    confirmed += 1
        if confirmed:
            messages.insert(0, ("INFO", f"{CONFIRM}_INFO_101", "注文確認に成功しました。", None))
        return {
            "MessageModelList": [
                {"messageType": t, "messageCode": c, "message": m}
                | ({"orderNumber": n} if n else {})
                for t, c, m, n in messages
            ]
        }
