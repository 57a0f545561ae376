"""RMS JSON -> dataclasses. Accepts the official shapes and the seed's variants.

Every function raises RmsMalformedResponse (through the client) on a shape it
cannot read; KeyError/TypeError/ValueError here mean exactly that.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from .errors import RmsErrorDetail
from .types import (
    JST,
    ConfirmResult,
    InventoryRecord,
    Item,
    ItemVariant,
    LicenseExpiry,
    Order,
    OrderLine,
    OrderSearchResult,
    OrdersResult,
)

RMS_DATETIME = "%Y-%m-%dT%H:%M:%S%z"
_ROW = re.compile(r"^\w+\[(\d+)\]")


def as_list(value: Any) -> list[Any]:
    """RMS sends one object where a list of one is meant: take both."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def rms_datetime(value: dt.datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss+0900`, the only form searchOrder accepts."""
    if value.tzinfo is None:
        raise ValueError("RMS datetimes must be timezone-aware")
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S+0900")


def parse_datetime(value: Any) -> dt.datetime | None:
    """Read `…+0900`, `…+09:00` and `…Z`; a missing offset means Japan time."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise TypeError(f"datetime expected, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JST)
    return parsed


def _int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise TypeError("integer expected, got a boolean")
    return int(value)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise TypeError("string expected")
    return str(value)


def order_numbers(value: Any) -> list[str]:
    """orderNumberList: a list of strings, one string, one {"orderNumber"} or a list of them."""
    numbers = []
    for entry in as_list(value):
        number = entry["orderNumber"] if isinstance(entry, dict) else entry
        if not isinstance(number, str) or not number:
            raise TypeError("order number must be a non-empty string")
        numbers.append(number)
    return numbers


def search_result(body: dict[str, Any]) -> OrderSearchResult:
    numbers = order_numbers(body.get("orderNumberList"))
    pagination = body.get("PaginationResponseModel") or {}
    total = _int(pagination.get("totalRecordsAmount"), default=len(numbers))
    return OrderSearchResult(order_numbers=numbers, total=total)


def search_total_pages(body: dict[str, Any]) -> int:
    pagination = body.get("PaginationResponseModel") or {}
    return _int(pagination.get("totalPages"), default=1) or 0


def _message(raw: dict[str, Any]) -> RmsErrorDetail:
    return RmsErrorDetail(
        code=_str(raw.get("messageCode")),
        message=_str(raw.get("message")),
        order_number=raw.get("orderNumber"),
    )


def messages(body: dict[str, Any]) -> list[RmsErrorDetail]:
    return [_message(raw) for raw in as_list(body.get("MessageModelList")) if isinstance(raw, dict)]


def error_messages(body: dict[str, Any]) -> list[RmsErrorDetail]:
    return [
        _message(raw)
        for raw in as_list(body.get("MessageModelList"))
        if isinstance(raw, dict) and raw.get("messageType") == "ERROR"
    ]


def _official_line(item: dict[str, Any], package_deleted: bool) -> list[OrderLine]:
    skus = [sku for sku in as_list(item.get("SkuModelList")) if isinstance(sku, dict)]
    base = {
        "manage_number": _str(item.get("manageNumber")),
        "item_number": _str(item.get("itemNumber")),
        "units": _int(item["units"]),
        "item_detail_id": _str(item.get("itemDetailId")) or None,
        "deleted": package_deleted or _int(item.get("deleteItemFlag"), 0) == 1,
        "restore_inventory": _int(item.get("restoreInventoryFlag")),
    }
    if not skus:
        # An order placed before the shop's SKU migration has no SKU rows.
        return [OrderLine(variant_id="", merchant_sku_id=None, **base)]
    return [
        OrderLine(
            variant_id=_str(sku.get("variantId")),
            merchant_sku_id=sku.get("merchantDefinedSkuId") or None,
            **base,
        )
        for sku in skus
    ]


def _official_order(raw: dict[str, Any]) -> Order:
    lines: list[OrderLine] = []
    for package in as_list(raw.get("PackageModelList")):
        package_deleted = _int(package.get("packageDeleteFlag"), 0) == 1
        for item in as_list(package.get("ItemModelList")):
            lines.extend(_official_line(item, package_deleted))
    return Order(
        order_number=_str(raw["orderNumber"]),
        progress=_int(raw["orderProgress"]),
        ordered_at=parse_datetime(raw.get("orderDatetime")),
        lines=tuple(lines),
        modified=_int(raw.get("modifyFlag"), 0) == 1,
        order_type=_int(raw.get("orderType")),
        sub_status_id=_int(raw.get("subStatusId")),
    )


def _seed_order(raw: dict[str, Any]) -> Order:
    """The seed's simplified shape: orderList -> itemsModel.itemsModel[]."""
    container = raw.get("itemsModel") or {}
    items = container.get("itemsModel") if isinstance(container, dict) else container
    lines = tuple(
        OrderLine(
            manage_number=_str(item.get("itemManagementNumber")),
            variant_id=_str(item.get("skuNumber")),
            units=_int(item["quantity"]),
        )
        for item in as_list(items)
    )
    return Order(
        order_number=_str(raw["orderNumber"]),
        progress=_int(raw["orderProgress"]),
        ordered_at=parse_datetime(raw.get("orderDate") or raw.get("orderDatetime")),
        lines=lines,
    )


def orders_result(body: dict[str, Any]) -> OrdersResult:
    if "OrderModelList" in body:
        orders = [_official_order(raw) for raw in as_list(body["OrderModelList"])]
    elif "orderList" in body:
        orders = [_seed_order(raw) for raw in as_list(body["orderList"])]
    else:
        orders = []
    not_found = [
        detail.order_number
        for detail in messages(body)
        if detail.code.endswith("_INFO_102") and detail.order_number
    ]
    return OrdersResult(orders=orders, not_found=not_found)


def confirm_result(body: dict[str, Any], requested: Iterable[str]) -> ConfirmResult:
    failed = {
        detail.order_number: detail.message or detail.code
        for detail in error_messages(body)
        if detail.order_number
    }
    return ConfirmResult(
        confirmed=[number for number in requested if number not in failed], failed=failed
    )


def inventory_record(raw: dict[str, Any]) -> InventoryRecord:
    return InventoryRecord(
        manage_number=_str(raw["manageNumber"]),
        variant_id=_str(raw["variantId"]),
        quantity=_int(raw["quantity"]),
        created=parse_datetime(raw.get("created")),
        updated=parse_datetime(raw.get("updated")),
    )


def inventory_records(body: dict[str, Any]) -> list[InventoryRecord]:
    return [inventory_record(raw) for raw in as_list(body["inventories"])]


def _variants(value: Any) -> tuple[ItemVariant, ...]:
    if isinstance(value, dict):
        # Item API 2.0: an object keyed by variantId.
        return tuple(
            ItemVariant(
                variant_id=str(variant_id),
                merchant_sku_id=(raw or {}).get("merchantDefinedSkuId") or None,
                hidden=bool((raw or {}).get("hidden", False)),
                restock_on_cancel=(raw or {}).get("restockOnCancel"),
            )
            for variant_id, raw in value.items()
        )
    # The seed's items.get: a list with variantId inside.
    return tuple(
        ItemVariant(
            variant_id=_str(raw["variantId"]),
            merchant_sku_id=raw.get("merchantDefinedSkuId") or None,
            quantity=_int(raw.get("inventory")),
        )
        for raw in as_list(value)
    )


def item(raw: dict[str, Any]) -> Item:
    manage_number = _str(raw["manageNumber"])
    if set(raw) == {"manageNumber"}:
        return Item(manage_number=manage_number, deleted=True)
    return Item(
        manage_number=manage_number,
        item_number=_str(raw.get("itemNumber")),
        title=_str(raw.get("title") or raw.get("itemName")),
        hidden=bool(raw.get("hideItem", False)),
        variants=_variants(raw.get("variants")),
        updated=parse_datetime(raw.get("updated")),
    )


def item_search_page(body: dict[str, Any]) -> tuple[list[Item], str | None, int]:
    items = [item(result["item"]) for result in as_list(body.get("results"))]
    return items, body.get("nextCursorMark"), _int(body.get("numFound"), 0)


def legacy_item_list(body: dict[str, Any]) -> list[Item]:
    """The seed's getItems shape (itemList.item, object or list, one SKU per entry)."""
    entries = as_list((body.get("itemList") or {}).get("item"))
    return [
        Item(
            manage_number=_str(raw.get("itemManagementNumber")),
            title=_str(raw.get("itemName")),
            variants=(
                ItemVariant(
                    variant_id=_str(raw["skuNumber"]),
                    quantity=_int(raw.get("inventory")),
                ),
            ),
        )
        for raw in entries
    ]


def license_expiry(body: dict[str, Any]) -> LicenseExpiry:
    expires_at = parse_datetime(body["expiryDate"])
    if expires_at is None:
        raise ValueError("expiryDate is empty")
    return LicenseExpiry(expires_at=expires_at)


def error_details(body: Any) -> list[RmsErrorDetail]:
    """Read any of RMS's error shapes: errors[], Results{}, MessageModelList[]."""
    if not isinstance(body, dict):
        return []
    details = []
    for raw in as_list(body.get("errors")):
        if not isinstance(raw, dict):
            continue
        path = (raw.get("metadata") or {}).get("propertyPath")
        match = _ROW.match(path or "")
        details.append(
            RmsErrorDetail(
                code=_str(raw.get("code")),
                message=_str(raw.get("message")),
                property_path=path,
                row=int(match.group(1)) if match else None,
            )
        )
    results = body.get("Results")
    if isinstance(results, dict):
        details.append(
            RmsErrorDetail(
                code=_str(results.get("errorCode")), message=_str(results.get("message"))
            )
        )
    details.extend(error_messages(body))
    return details
