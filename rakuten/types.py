"""Plain typed objects the RMS client returns. Nothing above the client sees raw JSON.

Prices and buyer details present in RMS payloads are read past, never carried here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

# RMS answers and expects Japan time.
JST = dt.timezone(dt.timedelta(hours=9), "JST")

# Limits of the RMS APIs (rakuten/RMS.md).
SEARCH_RESULT_CAP = 15_000
ORDER_BATCH = 100
BULK_GET_BATCH = 1000
BULK_UPSERT_BATCH = 400
QUANTITY_MAX = 99_999
ID_MAX_BYTES = 32


class OrderProgress(IntEnum):
    AWAITING_CONFIRMATION = 100
    RAKUTEN_PROCESSING = 200
    AWAITING_SHIPMENT = 300
    AWAITING_CHANGE_CONFIRMATION = 400
    SHIPPED = 500
    PAYMENT_IN_PROGRESS = 600
    PAYMENT_DONE = 700
    AWAITING_CANCEL_CONFIRMATION = 800
    CANCELLED = 900


class InventoryMode(StrEnum):
    ABSOLUTE = "ABSOLUTE"
    RELATIVE = "RELATIVE"


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One item line of an order, with the SKU it sold."""

    manage_number: str
    variant_id: str
    units: int
    item_number: str = ""
    merchant_sku_id: str | None = None
    item_detail_id: str | None = None
    # The line no longer counts: deleteItemFlag, or its package's packageDeleteFlag.
    deleted: bool = False
    # restoreInventoryFlag: 0 item setting, 1 restore, 2 don't (None: not sent).
    restore_inventory: int | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_number: str
    progress: int
    ordered_at: dt.datetime | None
    lines: tuple[OrderLine, ...]
    modified: bool = False
    order_type: int | None = None
    sub_status_id: int | None = None

    @property
    def active_lines(self) -> tuple[OrderLine, ...]:
        return tuple(line for line in self.lines if not line.deleted)

    @property
    def cancelled(self) -> bool:
        return self.progress == OrderProgress.CANCELLED


@dataclass(frozen=True, slots=True)
class OrderSearchResult:
    order_numbers: list[str]
    # What RMS reports as the total; above SEARCH_RESULT_CAP the rest was never returned.
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > SEARCH_RESULT_CAP


@dataclass(frozen=True, slots=True)
class OrdersResult:
    orders: list[Order]
    not_found: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    confirmed: list[str]
    # order number -> RMS's message for orders it refused to confirm
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VariantKey:
    manage_number: str
    variant_id: str


@dataclass(frozen=True, slots=True)
class InventoryRecord:
    manage_number: str
    variant_id: str
    quantity: int
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @property
    def key(self) -> VariantKey:
        return VariantKey(self.manage_number, self.variant_id)


@dataclass(frozen=True, slots=True)
class InventoryUpdate:
    manage_number: str
    variant_id: str
    quantity: int
    mode: InventoryMode = InventoryMode.ABSOLUTE

    @property
    def key(self) -> VariantKey:
        return VariantKey(self.manage_number.lower(), self.variant_id)


@dataclass(frozen=True, slots=True)
class ItemVariant:
    variant_id: str
    merchant_sku_id: str | None = None
    hidden: bool = False
    restock_on_cancel: bool | None = None
    # Only the seed's legacy item list carries a stock figure; RMS 2.0 items never do.
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class Item:
    manage_number: str
    item_number: str = ""
    title: str = ""
    hidden: bool = False
    variants: tuple[ItemVariant, ...] = ()
    # A deleted item comes back from search with only its manageNumber.
    deleted: bool = False
    updated: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class LicenseExpiry:
    expires_at: dt.datetime

    def days_left(self, now: dt.datetime | None = None) -> int:
        now = now or dt.datetime.now(JST)
        return (self.expires_at - now).days
