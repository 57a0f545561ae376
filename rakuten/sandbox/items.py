"""RMS's Item API 2.0 (items/search) and the catalogue a shop lists."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from .errors import gateway_error, inventory_error
from .model import SandboxItem, Shop, Variant, iso


class ItemApi:
    """Part of `Sandbox`: each shop's items and their variants."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shop: Callable[[str], Shop]

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
                    shop.stock_write(manage_number, variant_id, int(raw["quantity"]), self.clock())
            item.updated = now
            shop.items[manage_number] = item
            return item

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
