"""RMS's Inventory API 2.0 (bulk-get, bulk-upsert, one variant's get and upsert) and the stock
figures a merchant types into RMS.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Any

from .errors import inventory_error
from .model import Shop, Stock, iso

ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class InventoryApi:
    """Part of `Sandbox`: stock rows per (manage number, variant id)."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shop: Callable[[str], Shop]

    def stock_set(self, shop_id: str, manage_number: str, variant_id: str, quantity: int) -> None:
        """What a merchant typing a figure into RMS does."""
        with self.lock:
            self.shop(shop_id).stock_write(manage_number, variant_id, quantity, self.clock())

    def stock_of(self, shop_id: str, manage_number: str, variant_id: str) -> int | None:
        with self.lock:
            row = self.shop(shop_id).stock.get((manage_number.lower(), variant_id))
            return row.quantity if row else None

    def stock_rows(self, shop_id: str) -> list[dict[str, Any]]:
        """Every stock row of a shop, listed in RMS or not, as the control API shows them."""
        shop = self.shop(shop_id)
        with self.lock:
            return [
                {
                    "manageNumber": mn,
                    "variantId": vid,
                    "quantity": row.quantity,
                    "listed": shop.variant(mn, vid) is not None,
                }
                for (mn, vid), row in sorted(shop.stock.items())
            ]

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
        shop.stock_write(key[0], key[1], value, self.clock())

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
