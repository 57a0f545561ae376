"""The sandbox's shops, catalogue, stock and orders, and the RMS API over them.

Everything here is plain Python under one lock; `server.py` only moves bytes.
Request validation, answer shapes, error codes and HTTP statuses follow
rakuten/RMS.md. Codes marked "sandbox" in comments have no official source:
the shape is RMS's, the code is ours.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..endpoints import DEFAULT_RATE_LIMITS, JSON_CONTENT_TYPE
from ..types import JST

SEARCH_CAP = 15_000
ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
RMS_DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0900$")
FAULT_KINDS = ("500", "503", "429", "409", "401", "expired", "hang", "malformed")
SEARCH = "ORDER_EXT_API_SEARCH_ORDER"
GET = "ORDER_EXT_API_GET_ORDER"
CONFIRM = "ORDER_EXT_API_CONFIRM_ORDER"


def jst_now() -> dt.datetime:
    return dt.datetime.now(JST).replace(microsecond=0)


def iso(value: dt.datetime | None) -> str | None:
    """Inventory and Item API form: 2022-01-01T19:00:00+09:00."""
    return value.astimezone(JST).isoformat(timespec="seconds") if value else None


def rms(value: dt.datetime | None) -> str | None:
    """Order API form: 2018-07-24T16:01:22+0900."""
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S+0900") if value else None


class ApiError(Exception):
    """An HTTP answer other than success, raised anywhere in a request."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


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


@dataclass
class Variant:
    variant_id: str
    merchant_sku_id: str | None = None
    hidden: bool = False
    restock_on_cancel: bool = True


@dataclass
class SandboxItem:
    manage_number: str
    item_number: str
    title: str
    variants: dict[str, Variant]
    created: dt.datetime
    updated: dt.datetime


@dataclass
class Stock:
    quantity: int
    created: dt.datetime
    updated: dt.datetime


@dataclass
class Line:
    item_detail_id: int
    manage_number: str
    item_number: str
    title: str
    variant_id: str
    merchant_sku_id: str | None
    units: int
    deleted: bool = False


@dataclass
class SandboxOrder:
    order_number: str
    progress: int
    ordered_at: dt.datetime
    lines: list[Line]
    modify_flag: int = 0
    confirmed_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    changed_at: dt.datetime | None = None


@dataclass
class Shop:
    shop_id: str
    number: int
    service_secret: str
    license_key: str
    license_expires_at: dt.datetime
    item_api: bool = True
    items: dict[str, SandboxItem] = field(default_factory=dict)
    stock: dict[tuple[str, str], Stock] = field(default_factory=dict)
    orders: dict[str, SandboxOrder] = field(default_factory=dict)
    next_order: int = 1
    next_detail: int = 1

    def variant(self, manage_number: str, variant_id: str) -> tuple[SandboxItem, Variant] | None:
        item = self.items.get(manage_number.lower())
        if item and variant_id in item.variants:
            return item, item.variants[variant_id]
        return None


@dataclass
class Fault:
    endpoint: str  # an endpoint name from rakuten.endpoints, or "*"
    kind: str
    remaining: int
    shop_id: str | None = None
    retry_after: float | None = None


@dataclass
class Call:
    at: float
    shop_id: str | None
    endpoint: str
    method: str
    status: int
    fault: str | None = None
    body: Any = None


class Sandbox:
    def __init__(
        self,
        *,
        rate_limits: dict[str, float] | None = None,
        clock: Callable[[], dt.datetime] = jst_now,
        hang_seconds: float = 40.0,
        confirm_delay: float = 2.0,
        seed: int = 0,
    ) -> None:
        self.lock = threading.RLock()
        self.shops: dict[str, Shop] = {}
        self.faults: list[Fault] = []
        self.calls: deque[Call] = deque(maxlen=100_000)
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self.clock = clock
        self.hang_seconds = hang_seconds
        self.confirm_delay = dt.timedelta(seconds=confirm_delay)
        self.random = random.Random(seed)  # noqa: S311 - fake data, not security

    # --- control: shops, catalogue, stock ----------------------------------

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

    def item_add(self, shop_id: str, spec: dict[str, Any]) -> SandboxItem:
        """Add or extend an item.

        spec: {manageNumber, itemNumber?, title?, variants: [{variantId,
        merchantDefinedSkuId?, quantity?, restockOnCancel?, hidden?}]}
        """
        with self.lock:
            shop = self.shop(shop_id)
            now = self.clock()
            manage_number = str(spec["manageNumber"]).lower()
            item = shop.items.get(manage_number) or SandboxItem(
                manage_number=manage_number,
                item_number=str(spec.get("itemNumber") or manage_number.upper()),
                title=str(spec.get("title") or manage_number),
                variants={},
                created=now,
                updated=now,
            )
            for raw in spec.get("variants", []):
                variant_id = str(raw["variantId"])
                item.variants[variant_id] = Variant(
                    variant_id=variant_id,
                    merchant_sku_id=raw.get("merchantDefinedSkuId", variant_id),
                    hidden=bool(raw.get("hidden", False)),
                    restock_on_cancel=bool(raw.get("restockOnCancel", True)),
                )
                if "quantity" in raw:
                    self._stock_write(shop, manage_number, variant_id, int(raw["quantity"]))
            item.updated = now
            shop.items[manage_number] = item
            return item

    def _stock_write(self, shop: Shop, manage_number: str, variant_id: str, quantity: int) -> None:
        now = self.clock()
        key = (manage_number.lower(), variant_id)
        row = shop.stock.get(key)
        if row is None:
            shop.stock[key] = Stock(quantity=quantity, created=now, updated=now)
        else:
            row.quantity, row.updated = quantity, now

    def stock_set(self, shop_id: str, manage_number: str, variant_id: str, quantity: int) -> None:
        """What a merchant typing a figure into RMS does."""
        with self.lock:
            self._stock_write(self.shop(shop_id), manage_number, variant_id, quantity)

    def stock_of(self, shop_id: str, manage_number: str, variant_id: str) -> int | None:
        with self.lock:
            row = self.shop(shop_id).stock.get((manage_number.lower(), variant_id))
            return row.quantity if row else None

    # --- control: orders ----------------------------------------------------

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
                self._stock_shift(shop, item.manage_number, variant.variant_id, -units)
            shop.orders[number] = order
            return order

    def _stock_shift(self, shop: Shop, manage_number: str, variant_id: str, delta: int) -> None:
        row = shop.stock.get((manage_number, variant_id))
        if row is not None:
            row.quantity = max(row.quantity + delta, 0)
            row.updated = self.clock()

    def order(self, shop_id: str, order_number: str) -> SandboxOrder:
        try:
            return self.shop(shop_id).orders[order_number]
        except KeyError:
            raise ApiError(404, {"error": f"no order {order_number}"}) from None

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
                        self._stock_shift(shop, line.manage_number, line.variant_id, line.units)
            if progress >= 200 and order.confirmed_at is None:
                order.confirmed_at = now
            if progress >= 500 and order.shipped_at is None:
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
            self._stock_shift(shop, line.manage_number, line.variant_id, line.units - units)
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

    # --- control: faults and the call log ---------------------------------

    def fault_add(
        self,
        endpoint: str,
        kind: str,
        count: int = 1,
        *,
        shop_id: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ApiError(400, {"error": f"fault kind must be one of {', '.join(FAULT_KINDS)}"})
        if endpoint != "*" and endpoint not in self.rate_limits:
            raise ApiError(400, {"error": f"unknown endpoint {endpoint}"})
        fault = Fault(endpoint, kind, int(count), shop_id, retry_after)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fault_take(self, shop_id: str | None, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.endpoint in ("*", endpoint) and fault.shop_id in (None, shop_id):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def call_record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def calls_matching(
        self, *, shop_id: str | None = None, endpoint: str | None = None
    ) -> list[Call]:
        with self.lock:
            return [
                call
                for call in self.calls
                if (shop_id is None or call.shop_id == shop_id)
                and (endpoint is None or call.endpoint == endpoint)
            ]

    # --- the gate in front of every API call ---------------------------------

    def authenticate(self, header: str | None) -> Shop:
        if not header or not header.startswith("ESA "):
            raise gateway_error(401, "ES01-01", "Un-Authorised")
        try:
            secret, _, key = base64.b64decode(header[4:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise gateway_error(401, "ES01-01", "Un-Authorised") from None
        with self.lock:
            shop = next((s for s in self.shops.values() if s.license_key == key), None)
        if shop is None or shop.service_secret != secret:
            raise gateway_error(401, "ES01-01", "Un-Authorised")
        if shop.license_expires_at < self.clock():
            raise gateway_error(401, "GA0001", "License key is expired.")
        return shop

    def rate_check(self, shop: Shop, endpoint: str) -> None:
        """A sliding one-second window per shop and endpoint."""
        limit = self.rate_limits.get(endpoint, 1)
        now = time.monotonic()
        with self.lock:
            window = self._windows.setdefault((shop.shop_id, endpoint), deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= math.floor(limit):
                raise gateway_error(429, "ES04-02", "Too Many Requests", **{"Retry-After": "1"})
            window.append(now)

    @staticmethod
    def content_type_check(content_type: str | None) -> None:
        if (content_type or "").lower() != JSON_CONTENT_TYPE:
            raise gateway_error(415, "ES04-03", "Unsupported Media Type")

    # --- Order API ------------------------------------------------------------

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
        reachable = hits[:SEARCH_CAP]
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

    # --- Inventory API 2.0 -------------------------------------------------------

    @staticmethod
    def _id_errors(value: Any, name: str, path: str) -> list[tuple[str, str, str]]:
        if value in (None, ""):
            return [("IE0001", f"{name} is required.", path)]
        if not isinstance(value, str) or not ID_RE.match(value):
            return [("IE0002", f"{name} is invalid.", path)]
        if len(value.encode()) > 32:
            return [("IE0004", f"Max length of {name} must be within 32 bytes.", path)]
        return []

    def _inventory_list(self, body: Any, limit: int) -> list[dict[str, Any]]:
        if not body:
            raise inventory_error(400, [("GE0011", "Request body is empty.", None)])
        entries = body.get("inventories") if isinstance(body, dict) else None
        if not entries or not isinstance(entries, list):
            raise inventory_error(400, [("IE0001", "inventories is required.", "inventories")])
        if len(entries) > limit:
            raise inventory_error(
                400, [("IE1101", f"inventories must be at most {limit}.", "inventories")]
            )
        errors: list[tuple[str, str, str]] = []
        seen = set()
        for row, entry in enumerate(entries):
            if not isinstance(entry, dict):
                errors.append(("IE0002", "inventory is invalid.", f"inventories[{row}]"))
                continue
            errors += self._id_errors(
                entry.get("manageNumber"), "manageNumber", f"inventories[{row}].manageNumber"
            )
            errors += self._id_errors(
                entry.get("variantId"), "variantId", f"inventories[{row}].variantId"
            )
            key = (str(entry.get("manageNumber")).lower(), entry.get("variantId"))
            if key in seen:
                errors.append(
                    ("IE1102", "Duplicate manageNumber and variantId.", f"inventories[{row}]")
                )
            seen.add(key)
        if errors:
            raise inventory_error(400, errors)
        return entries

    @staticmethod
    def _inventory_json(key: tuple[str, str], row: Stock) -> dict[str, Any]:
        return {
            "manageNumber": key[0],
            "variantId": key[1],
            "quantity": row.quantity,
            "created": iso(row.created),
            "updated": iso(row.updated),
        }

    def inventory_bulk_get(self, shop: Shop, body: Any) -> dict[str, Any]:
        entries = self._inventory_list(body, 1000)
        with self.lock:
            found = []
            for entry in entries:
                key = (entry["manageNumber"].lower(), entry["variantId"])
                if key in shop.stock:
                    found.append(self._inventory_json(key, shop.stock[key]))
        return {"inventories": found}

    def _quantity_errors(
        self, shop: Shop, key: tuple[str, str], mode: Any, quantity: Any, prefix: str
    ) -> list[tuple[str, str, str]]:
        if mode in (None, ""):
            return [("IE0001", "mode is required.", f"{prefix}mode")]
        if mode not in ("ABSOLUTE", "RELATIVE"):
            return [("IE0002", "mode is invalid.", f"{prefix}mode")]
        if quantity is None:
            return [("IE0001", "quantity is required.", f"{prefix}quantity")]
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            return [("IE0002", "quantity is invalid.", f"{prefix}quantity")]
        current = shop.stock.get(key)
        if mode == "ABSOLUTE":
            if not 0 <= quantity <= 99_999:
                return [("IE0003", "quantity must be between 0 and 99999.", f"{prefix}quantity")]
            return []
        if current is None:
            return [("IE0500", "RELATIVE mode cannot be used for a new SKU.", f"{prefix}mode")]
        if not 0 <= current.quantity + quantity <= 99_999:
            return [("IE0117", "quantity is out of range after update.", f"{prefix}quantity")]
        return []

    def _apply(self, shop: Shop, key: tuple[str, str], mode: str, quantity: int) -> None:
        # An unknown item or SKU is not an error: the row is created (Rakuten drops it after 24 h).
        current = shop.stock.get(key)
        value = quantity if mode == "ABSOLUTE" else current.quantity + quantity
        self._stock_write(shop, key[0], key[1], value)

    def inventory_bulk_upsert(self, shop: Shop, body: Any) -> None:
        entries = self._inventory_list(body, 400)
        with self.lock:
            errors = []
            for row, entry in enumerate(entries):
                key = (entry["manageNumber"].lower(), entry["variantId"])
                errors += self._quantity_errors(
                    shop, key, entry.get("mode"), entry.get("quantity"), f"inventories[{row}]."
                )
            if errors:
                raise inventory_error(400, errors)
            for entry in entries:
                key = (entry["manageNumber"].lower(), entry["variantId"])
                self._apply(shop, key, entry["mode"], entry["quantity"])

    def _path_key(self, manage_number: str, variant_id: str) -> tuple[str, str]:
        errors = self._id_errors(manage_number, "manageNumber", "manageNumber")
        errors += self._id_errors(variant_id, "variantId", "variantId")
        if errors:
            raise inventory_error(400, errors)
        return manage_number.lower(), variant_id

    def variant_get(self, shop: Shop, manage_number: str, variant_id: str) -> dict[str, Any]:
        key = self._path_key(manage_number, variant_id)
        with self.lock:
            row = shop.stock.get(key)
            if row is None:
                raise inventory_error(404, [("GE0014", "Not found.", None)])
            return self._inventory_json(key, row)

    def variant_upsert(self, shop: Shop, manage_number: str, variant_id: str, body: Any) -> None:
        key = self._path_key(manage_number, variant_id)
        if not body or not isinstance(body, dict):
            raise inventory_error(400, [("GE0011", "Request body is empty.", None)])
        with self.lock:
            errors = self._quantity_errors(shop, key, body.get("mode"), body.get("quantity"), "")
            if errors:
                raise inventory_error(400, errors)
            self._apply(shop, key, body["mode"], body["quantity"])

    # --- Item API 2.0 ------------------------------------------------------------

    def _item_json(self, item: SandboxItem) -> dict[str, Any]:
        return {
            "manageNumber": item.manage_number,
            "itemNumber": item.item_number,
            "itemType": "NORMAL",
            "title": item.title,
            "hideItem": False,
            "standardPrice": None,
            "variants": {
                variant.variant_id: {
                    "merchantDefinedSkuId": variant.merchant_sku_id,
                    "restockOnCancel": variant.restock_on_cancel,
                    "backOrderFlag": False,
                    "standardPrice": "1000",
                    "hidden": variant.hidden,
                }
                for variant in item.variants.values()
            },
            "created": iso(item.created),
            "updated": iso(item.updated),
        }

    def items_search(self, shop: Shop, query: dict[str, str]) -> dict[str, Any]:
        if not shop.item_api:
            raise gateway_error(401, "ES04-01", "The Item API is not enabled for this licence.")
        try:
            hits = int(query.get("hits", 10))
            offset = int(query.get("offset", 0))
        except ValueError:
            raise inventory_error(
                400, [("GE0002", "hits and offset must be numbers.", None)]
            ) from None
        if not 1 <= hits <= 100:
            raise inventory_error(400, [("GE0003", "hits must be between 1 and 100.", "hits")])
        if not 0 <= offset <= 10_000:
            raise inventory_error(
                400, [("GE0003", "offset must be between 0 and 10000.", "offset")]
            )
        cursor = query.get("cursorMark")
        if cursor is not None and ("sortKey" in query or "offset" in query):
            raise inventory_error(
                400,
                [("GE0002", "cursorMark cannot be combined with sortKey or offset.", "cursorMark")],
            )

        def matches(item: SandboxItem) -> bool:
            variants = item.variants.values()
            return (
                query.get("manageNumber", "").lower() in item.manage_number
                and query.get("itemNumber", "") in item.item_number
                and (
                    "variantId" not in query
                    or any(query["variantId"] in v.variant_id for v in variants)
                )
                and (
                    "merchantDefinedSkuId" not in query
                    or any(
                        query["merchantDefinedSkuId"] in (v.merchant_sku_id or "") for v in variants
                    )
                )
            )

        with self.lock:
            found = sorted(
                (item for item in shop.items.values() if matches(item)),
                key=lambda item: item.manage_number,
            )
            if cursor is None:
                page = found[offset : offset + hits]
                answer: dict[str, Any] = {"numFound": len(found), "offset": offset}
            else:
                after = ""
                if cursor != "*":
                    try:
                        after = base64.b64decode(cursor, altchars=b"-_", validate=True).decode()
                    except (binascii.Error, UnicodeDecodeError):
                        raise inventory_error(
                            400, [("GE0002", "cursorMark is invalid.", "cursorMark")]
                        ) from None
                page = [item for item in found if item.manage_number > after][:hits]
                next_cursor = (
                    base64.urlsafe_b64encode(page[-1].manage_number.encode()).decode()
                    if page
                    else cursor
                )
                answer = {"numFound": len(found), "nextCursorMark": next_cursor}
            answer["results"] = [{"item": self._item_json(item)} for item in page]
        return answer

    # --- licence -------------------------------------------------------------------

    def license_expiry(self, shop: Shop, query: dict[str, str]) -> dict[str, Any]:
        key = query.get("licenseKey")
        if not key:
            raise inventory_error(400, [("GE0001", "licenseKey is required.", "licenseKey")])
        if key != shop.license_key:
            raise inventory_error(400, [("GE0002", "licenseKey is invalid.", "licenseKey")])
        return {"expiryDate": shop.license_expires_at.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S")}

    # --- state file ---------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self.lock:
            shops = []
            for shop in self.shops.values():
                raw = asdict(shop)
                raw["stock"] = [
                    {"manageNumber": mn, "variantId": vid, **asdict(row)}
                    for (mn, vid), row in shop.stock.items()
                ]
                shops.append(raw)
        return json.loads(json.dumps({"shops": shops}, default=_encode))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.dump(), ensure_ascii=False, indent=1))
        tmp.replace(path)

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.shops.clear()
            for raw in data.get("shops", []):
                shop = Shop(
                    shop_id=raw["shop_id"],
                    number=raw["number"],
                    service_secret=raw["service_secret"],
                    license_key=raw["license_key"],
                    license_expires_at=_dt(raw["license_expires_at"]),
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
                        created=_dt(item["created"]),
                        updated=_dt(item["updated"]),
                    )
                for row in raw.get("stock", []):
                    shop.stock[(row["manageNumber"], row["variantId"])] = Stock(
                        quantity=row["quantity"],
                        created=_dt(row["created"]),
                        updated=_dt(row["updated"]),
                    )
                for number, order in raw.get("orders", {}).items():
                    shop.orders[number] = SandboxOrder(
                        order_number=order["order_number"],
                        progress=order["progress"],
                        ordered_at=_dt(order["ordered_at"]),
                        lines=[Line(**line) for line in order["lines"]],
                        modify_flag=order.get("modify_flag", 0),
                        confirmed_at=_dt(order.get("confirmed_at")),
                        shipped_at=_dt(order.get("shipped_at")),
                        changed_at=_dt(order.get("changed_at")),
                    )
                self.shops[shop.shop_id] = shop


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
