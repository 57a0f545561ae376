"""Plain typed objects the eBay client returns. Nothing above the client sees raw JSON.

Prices are on eBay's offers and orders: they are read past and removed from any payload kept
(this product keeps no prices); buyer details are never carried here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# eBay's limits (../shared/platforms/EBAY.md).
SKU_MAX = 50
# "[A-Za-z0-9._-]" is what eBay documents nothing against; anything else is refused before a
# call (case, spaces, "/" and non-ASCII are undocumented: we do not risk them).
SKU_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
BULK_UPDATE_MAX = 25  # entries of bulkUpdatePriceQuantity
BULK_GET_MAX = 25  # bulkGetInventoryItem
INVENTORY_PAGE_MAX = 200
ORDERS_PAGE_MAX = 200
ORDER_IDS_MAX = 50
QUANTITY_MAX = 2_147_483_647

SCOPE_INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory"
SCOPE_FULFILLMENT = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
SCOPES = (SCOPE_INVENTORY, SCOPE_FULFILLMENT)

# Per-entry error ids of bulkUpdatePriceQuantity (EBAY.md): 25001 is eBay's own failure
# (try again later); the others refuse the value and will refuse it again.
ERROR_SYSTEM = 25001
ERRORS_FINAL = frozenset({25002, 25709, 25759})


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the token endpoint answered. ``refresh_token`` only for an authorization code."""

    access_token: str
    expires_in: int
    refresh_token: str = ""
    refresh_expires_in: int | None = None


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """One inventory item (a SKU of the seller): no price, no offers (the API has neither)."""

    sku: str
    title: str
    condition: str
    quantity: int | None
    aspects: Mapping[str, tuple[str, ...]]
    image_count: int
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Offer:
    """One offer of a SKU (a SKU may have several: formats, marketplaces)."""

    offer_id: str
    sku: str
    marketplace_id: str
    format: str
    available_quantity: int | None
    status: str  # PUBLISHED | UNPUBLISHED
    listing_id: str
    listing_status: str  # ACTIVE | ENDED | … ("" when not listed)
    merchant_location_key: str
    category_id: str
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return self.status == "PUBLISHED"


@dataclass(frozen=True, slots=True)
class QuantityUpdate:
    """Set a SKU's item quantity and each named offer's availableQuantity to ``quantity``."""

    sku: str
    quantity: int
    offer_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EntryError:
    error_id: int
    message: str

    def __str__(self) -> str:
        return f"{self.error_id}: {self.message}"


@dataclass(frozen=True, slots=True)
class EntryResult:
    """eBay's answer for one entry (an offer, or a SKU sent without offers)."""

    sku: str
    offer_id: str
    status_code: int
    errors: tuple[EntryError, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300 and not self.errors

    @property
    def retryable(self) -> bool:
        """Only eBay's own failure (25001) is worth sending again as it is."""
        return not self.ok and all(e.error_id == ERROR_SYSTEM for e in self.errors)


@dataclass(frozen=True, slots=True)
class LineItem:
    line_item_id: str
    sku: str  # "" when the listing has none
    quantity: int
    legacy_item_id: str = ""
    legacy_variation_id: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    created: dt.datetime | None
    last_modified: dt.datetime | None
    fulfillment_status: str  # NOT_STARTED | IN_PROGRESS | FULFILLED
    payment_status: str
    cancel_state: str  # NONE_REQUESTED | IN_PROGRESS | CANCELED
    lines: tuple[LineItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list: its entries, eBay's ``total`` and the ``next`` link (None: last)."""

    entries: tuple[Any, ...]
    total: int | None
    next_url: str | None
