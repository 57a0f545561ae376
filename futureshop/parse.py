"""futureshop JSON -> dataclasses (the shapes of /work/shared/platforms/futureshop-samples).

KeyError/TypeError/ValueError raised here mean "not the documented shape": the client
turns them into FutureshopMalformed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .errors import FutureshopErrorDetail
from .types import JST, InventoryEntry, Order, OrderLine, ProductResult, SearchedOrder

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Keys a line id could come under in an order detail (none in the public captures).
LINE_ID_KEYS = ("id", "lineId", "orderDetailId", "detailId")


def fs_datetime(value: dt.datetime) -> str:
    """`yyyy-mm-ddTHH:MM:SS` in Japan time, the form the search filters take."""
    if value.tzinfo is None:
        raise ValueError("futureshop datetimes must be timezone-aware")
    return value.astimezone(JST).strftime(DATETIME_FORMAT)


def parse_datetime(value: Any) -> dt.datetime | None:
    """futureshop's `2021-07-07T21:16:17` is Japan time; "" or null is no date."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise TypeError(f"datetime expected, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=JST)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"string expected, got {type(value).__name__}")


def whole(value: Any) -> int:
    """A count: a JSON Number, or digits in a string."""
    if isinstance(value, bool):
        raise TypeError("count is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"count is not a whole number: {value!r}")


def items(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{name} is not a list")
    return value


def obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{name} is not an object")
    return value


# --- errors ---------------------------------------------------------------------------


def error_details(body: Any) -> list[FutureshopErrorDetail]:
    """`errors: [{code, path, message}]` of any answer; nothing when there is none."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    details = []
    for error in body["errors"]:
        if isinstance(error, dict):
            details.append(
                FutureshopErrorDetail(
                    code=str(error.get("code") or ""),
                    message=str(error.get("message") or ""),
                    path=str(error["path"]) if error.get("path") else None,
                )
            )
    return details


# --- token ------------------------------------------------------------------------------


def token(body: dict[str, Any]) -> tuple[str, float | None]:
    access_token = body["access_token"]
    if not isinstance(access_token, str) or not access_token:
        raise ValueError("access_token is empty")
    expires_in = body.get("expires_in")
    if expires_in is None or expires_in == "":
        return access_token, None
    if isinstance(expires_in, bool):
        raise TypeError("expires_in is a boolean")
    return access_token, float(expires_in)


# --- inventory ----------------------------------------------------------------------------


def product_results(body: dict[str, Any]) -> list[ProductResult]:
    results = []
    for entry in items(body.get("results"), "results"):
        entry = obj(entry, "a result")
        results.append(
            ProductResult(
                product_no=text(entry.get("productNo")),
                status=text(entry.get("status")),
                code=text(entry.get("code")),
                message=text(entry.get("message")),
            )
        )
    return results


def inventory_entries(body: dict[str, Any]) -> Iterator[InventoryEntry]:
    """Regular stock per SKU of one search page (preorder and planned stock are skipped)."""
    for product in items(body["productList"], "productList"):
        product = obj(product, "a product")
        product_no = text(product["productNo"])
        info = product.get("inventoryInfo") or {}
        regular = obj(info, "inventoryInfo").get("regular") or {}
        for sku in items(obj(regular, "regular").get("inventoryList"), "inventoryList"):
            sku = obj(sku, "an inventory row")
            yield InventoryEntry(
                product_no=product_no,
                sku_no=text(sku.get("skuNo")),
                vertical_no=text(sku.get("verticalNo")),
                horizontal_no=text(sku.get("horizontalNo")),
                jan_code=text(sku.get("janCode")),
                count=whole(sku["count"]),
            )


def total(body: dict[str, Any]) -> int | None:
    """A total count, should a page carry one (the public captures do not)."""
    for key in ("totalCount", "total", "count"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def next_url(body: dict[str, Any]) -> str | None:
    value = body.get("nextUrl")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise TypeError("nextUrl is not a string")
    return value


# --- orders -------------------------------------------------------------------------------


def searched_orders(body: dict[str, Any]) -> list[SearchedOrder]:
    """The orders of one search page with their status and lines (skuNo, count)."""
    found = []
    for raw in items(body["orderList"], "orderList"):
        raw = obj(raw, "an order")
        lines = []
        for shipment in items(raw.get("shipmentList"), "shipmentList"):
            shipment = obj(shipment, "a shipment")
            for line in items(shipment.get("productList"), "productList"):
                line = obj(line, "an order line")
                lines.append((text(line.get("skuNo")), whole(line["count"])))
        found.append(
            SearchedOrder(
                order_no=text(raw["orderNo"]), status=text(raw.get("status")), lines=tuple(lines)
            )
        )
    return found


def order(body: dict[str, Any]) -> Order:
    order_no = text(body["orderNo"])
    if not order_no:
        raise ValueError("orderNo is empty")
    lines = []
    for s, shipment in enumerate(items(body.get("shipmentList"), "shipmentList")):
        shipment = obj(shipment, "a shipment")
        for i, line in enumerate(items(shipment.get("productList"), "productList")):
            line = obj(line, "an order line")
            product_no = text(line["productNo"])
            sku_no = text(line.get("skuNo"))
            line_id = next(
                (line[key] for key in LINE_ID_KEYS if line.get(key) not in (None, "")), None
            )
            lines.append(
                OrderLine(
                    product_no=product_no,
                    sku_no=sku_no,
                    count=whole(line["count"]),
                    line_key=text(line_id)
                    if line_id is not None
                    else f"{s}:{i}:{product_no}:{sku_no}",
                )
            )
    return Order(
        order_no=order_no,
        status=text(body.get("status")),
        ordered_at=parse_datetime(body.get("date") or body.get("orderDate")),
        updated_at=parse_datetime(body.get("dateLastUpdated")),
        lines=tuple(lines),
    )
