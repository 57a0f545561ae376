"""futureshop's inventory API: the update of spec 003 (official) and the search (FUTURESHOP.md).

The sandbox holds regular stock only: preorder and planned stock are "not registered" for
every product, so updating them fails as futureshop fails for a product without them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sync.sandbox.errors import ApiError

from .errors import MESSAGES, api_error, required, too_long
from .model import Product, Shop

MAX_PRODUCTS = 100  # productList per update; productNo values per search
PRODUCT_NO_MAX_BYTES = 32
COUNT_MAX_DIGITS = 9
COUNT_RE = re.compile(r"^([+-]?)(\d+)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEARCH_TYPES = ("regular", "preorder", "planned")


class Refused(Exception):
    """One product refused: its result's code and message."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or MESSAGES[code]


def cursor_encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise api_error(400, "InvalidFormat", "cursorの形式に誤りがあります", "cursor")
    return data


def next_url(base_url: str, path: str, query: dict[str, str], cursor: str) -> str:
    """The absolute URL of the next page: the same query with the next page's cursor."""
    params = {k: v for k, v in query.items() if k != "cursor"}
    params["cursor"] = cursor
    return f"{base_url}{path}?{urlencode(params, safe=',:')}"


def count_parse(raw: Any) -> tuple[str, int]:
    """("set" | "add" | "sub", n) of a count: a Number sets; a String sets, or adds with +/-."""
    if isinstance(raw, bool) or raw is None:
        raise Refused("InvalidFormat")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        if raw < 0:
            raise Refused("InvalidFormat")
        if len(str(raw)) > COUNT_MAX_DIGITS:
            raise Refused("TooLong", too_long("count"))
        return "set", raw
    if not isinstance(raw, str):
        raise Refused("InvalidFormat")
    match = COUNT_RE.match(raw.strip())
    if not match:
        raise Refused("InvalidFormat")
    sign, digits = match.groups()
    if len(digits) > COUNT_MAX_DIGITS:
        raise Refused("TooLong", too_long("count"))
    return {"": "set", "+": "add", "-": "sub"}[sign], int(digits)


class InventoryApi:
    """Part of `Sandbox`: POST and GET /admin-api/v1/inventory."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    failed_status: int
    stock_max: int
    branch_no_max: int
    inventory_page_size: int
    next_url_on_last_page: str

    # --- update (spec 003) --------------------------------------------------------------

    def inventory_update(self, shop: Shop, body: Any) -> tuple[int, dict[str, Any]]:
        """Each product is applied or refused on its own: a refused one fails the whole answer
        (top-level "failed" with ErrorsPresent) while the others stay applied.
        """
        if not isinstance(body, dict):
            raise api_error(400, "WrongFormat", MESSAGES["WrongFormat"])
        products = body.get("productList")
        if products is None:
            raise api_error(400, "Required", required("productList"), "productList")
        if not isinstance(products, list):
            raise api_error(400, "WrongFormat", MESSAGES["WrongFormat"], "productList")
        if len(products) > MAX_PRODUCTS:
            # The spec's table lists TooMany among the results; no product is applied, so the
            # sandbox answers it as a refusal of the request.
            raise api_error(400, "TooMany", MESSAGES["TooMany"], "productList")
        seen = Counter(p.get("productNo") for p in products if isinstance(p, dict))
        results = []
        with self.lock:
            for entry in products:
                product_no = entry.get("productNo") if isinstance(entry, dict) else None
                try:
                    self._product_update(shop, entry, duplicated=seen[product_no] > 1)
                except Refused as refused:
                    results.append(
                        {
                            "status": "failed",
                            "productNo": product_no if isinstance(product_no, str) else "",
                            "code": refused.code,
                            "message": refused.message,
                        }
                    )
                else:
                    results.append({"status": "success", "productNo": product_no})
        if all(r["status"] == "success" for r in results):
            return 200, {"status": "success", "results": results}
        errors = [{"code": "ErrorsPresent", "message": MESSAGES["ErrorsPresent"]}]
        return self.failed_status, {"status": "failed", "errors": errors, "results": results}

    def _entries(self, raw: Any) -> list[tuple[str, str, tuple[str, int]]]:
        """An inventoryList as (verticalNo, horizontalNo, (mode, n)), or Refused."""
        if not isinstance(raw, list):
            raise Refused("Required", required("inventoryList"))
        entries = []
        for item in raw:
            if not isinstance(item, dict):
                raise Refused("InvalidFormat")
            branches = []
            for key in ("verticalNo", "horizontalNo"):
                value = item.get(key)
                value = "" if value is None else str(value)
                if len(value) > self.branch_no_max:
                    raise Refused("TooLong", too_long(key))
                branches.append(value)
            if item.get("count") is None:
                raise Refused("Required", required("count"))
            entries.append((branches[0], branches[1], count_parse(item["count"])))
        pairs = Counter((v, h) for v, h, _ in entries)
        if any(n > 1 for n in pairs.values()):
            raise Refused("DuplicatedStock")
        return entries

    def _product_update(self, shop: Shop, entry: Any, *, duplicated: bool) -> None:
        """Validate one product's update, then apply all of it or nothing."""
        if not isinstance(entry, dict):
            raise Refused("Required")
        product_no = entry.get("productNo")
        if not isinstance(product_no, str) or not product_no:
            raise Refused("Required")
        if len(product_no.encode()) > PRODUCT_NO_MAX_BYTES:
            raise Refused("TooLong", too_long("productNo"))
        if duplicated:
            # Which of the duplicates wins is undocumented: the sandbox applies none of them.
            raise Refused("DuplicatedProductNo")
        info = entry.get("inventoryInfo")
        if not isinstance(info, dict):
            raise Refused("Required", required("inventoryInfo"))
        regular = preorder = None
        if info.get("regular") is not None:
            regular = self._entries(inventory_list(info["regular"]))
        if info.get("preorder") is not None:
            preorder = self._entries(inventory_list(info["preorder"]))
        planned = info.get("plannedList")
        if planned is not None:
            if not isinstance(planned, list):
                raise Refused("Required", required("plannedList"))
            dates = []
            for block in planned:
                date = block.get("date") if isinstance(block, dict) else None
                if not isinstance(date, str) or not DATE_RE.match(date):
                    raise Refused("WrongDateFormat")
                try:
                    dt.date.fromisoformat(date)
                except ValueError:
                    raise Refused("WrongDateFormat") from None
                dates.append(date)
                self._entries(block.get("inventoryList"))
            if len(set(dates)) < len(dates):
                raise Refused("DuplicatedPlannedDate")
        product = shop.products.get(product_no)
        if product is None:
            raise Refused("ProductNotFound")
        if not product.inventory_enabled:
            raise Refused("NotManagementSettings")
        if preorder:
            raise Refused("StockNotFound")  # the sandbox registers no preorder stock
        if planned:
            raise Refused("PlannedStockDateNotFound")  # nor any planned date
        writes = []
        for vertical_no, horizontal_no, (mode, n) in regular or []:
            sku = product.sku(vertical_no, horizontal_no)
            if sku is None:
                raise Refused("StockNotFound")
            new = {"set": n, "add": sku.count + n, "sub": sku.count - n}[mode]
            # The spec says both "above" and "at or above" 999,999,999: `stock_max` is the
            # highest count taken (999,999,998 for the second reading).
            if new > self.stock_max:
                raise Refused("OverStock")
            if new < 0:
                # sandbox: what futureshop does with a "-n" below zero is undocumented.
                raise Refused("InvalidFormat")
            writes.append((sku, new))
        for sku, new in writes:
            sku.count = new

    # --- search (FUTURESHOP.md) ---------------------------------------------------------

    def inventory_search(
        self, shop: Shop, query: dict[str, str], base_url: str, path: str
    ) -> dict[str, Any]:
        types = [t.strip() for t in query.get("types", "regular").split(",") if t.strip()]
        if any(t not in SEARCH_TYPES for t in types):
            raise api_error(400, "InvalidFormat", "typesの形式に誤りがあります", "types")
        wanted = [p.strip() for p in query.get("productNo", "").split(",") if p.strip()]
        if len(wanted) > MAX_PRODUCTS:
            raise api_error(400, "TooMany", "productNoの指定は100件までです", "productNo")
        after = int(cursor_decode(query["cursor"]).get("id", 0)) if "cursor" in query else 0
        with self.lock:
            products = sorted(shop.products.values(), key=lambda p: p.id)
            if wanted:
                products = [p for p in products if p.product_no in set(wanted)]
            products = [p for p in products if p.id > after]
            page = products[: self.inventory_page_size]
            answer: dict[str, Any] = {
                "productList": [product_json(p, types) for p in page],
            }
            if len(products) > len(page):
                cursor = cursor_encode({"id": page[-1].id})
                answer["nextUrl"] = next_url(base_url, path, query, cursor)
            elif self.next_url_on_last_page == "null":
                answer["nextUrl"] = None
            return answer

    def stock_rows(self, shop: Shop) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {"productNo": p.product_no, **sku_json(sku)}
                for p in sorted(shop.products.values(), key=lambda p: p.id)
                for sku in p.skus
            ]


def inventory_list(section: Any) -> Any:
    return section.get("inventoryList") if isinstance(section, dict) else None


def sku_json(sku: Any) -> dict[str, Any]:
    return {
        "skuNo": sku.sku_no,
        "verticalNo": sku.vertical_no,
        "horizontalNo": sku.horizontal_no,
        "janCode": sku.jan_code,
        "count": sku.count,
    }


def product_json(product: Product, types: list[str]) -> dict[str, Any]:
    """A product as the inventory search answers it (inventory_search_page*.json)."""
    info: dict[str, Any] = {}
    if "regular" in types:
        info["regular"] = {"inventoryList": [sku_json(s) for s in product.skus]}
    return {
        "id": product.id,
        "productNo": product.product_no,
        "name": product.name,
        "inventoryEnabled": product.inventory_enabled,
        "variationEnabled": any(s.vertical_no or s.horizontal_no for s in product.skus),
        "preorderEnabled": False,
        "plannedStockEnabled": False,
        "type": "REGULAR",
        "inventoryInfo": info,
    }


__all__ = ["ApiError", "InventoryApi", "Refused", "cursor_decode", "cursor_encode", "next_url"]
