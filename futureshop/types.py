"""Plain typed objects the futureshop client returns. Nothing above the client sees raw JSON.

Buyer details and prices present in futureshop answers are read past, never carried here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# futureshop answers and expects Japan time, without an offset.
JST = dt.timezone(dt.timedelta(hours=9), "JST")

# Limits of the inventory update API (spec 003, ../shared/platforms/FUTURESHOP.md).
PRODUCTS_PER_REQUEST = 100
COUNT_MAX = 999_999_999
PRODUCT_NO_MAX_BYTES = 32
BRANCH_NO_MAX_BYTES = 9

STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InventoryEntry:
    """One SKU's regular stock as the inventory search shows it. An update needs the pair
    of branch numbers (vertical_no, horizontal_no) under the product number."""

    product_no: str
    sku_no: str
    vertical_no: str
    horizontal_no: str
    jan_code: str
    count: int


@dataclass(frozen=True, slots=True)
class StockUpdate:
    """Set one SKU's regular stock to `count` (absolute: sent as a JSON Number)."""

    product_no: str
    vertical_no: str
    horizontal_no: str
    count: int


@dataclass(frozen=True, slots=True)
class ProductResult:
    """futureshop's answer for one product of an update (results are per product)."""

    product_no: str
    status: str
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The answer to an inventory update, merged over its requests. A product that failed
    failed with all its SKUs; the others were set."""

    status: str
    results: tuple[ProductResult, ...] = ()
    error_codes: tuple[str, ...] = ()
    # An attempt timed out or failed on futureshop's side before the write succeeded: it
    # may still be applied late, over the counts written.
    uncertain: bool = False

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS and not self.failed_products

    @property
    def failed_products(self) -> dict[str, str]:
        """productNo -> "CODE: message" for every product futureshop did not update."""
        return {result.product_no: _reason(result) for result in self.results if not result.ok}


def _reason(result: ProductResult) -> str:
    code = result.code or "failed"
    return f"{code}: {result.message}" if result.message else code


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_no: str
    sku_no: str
    count: int
    # Stable within the order: a line id when futureshop sends one, else
    # "{shipment index}:{line index}:{productNo}:{skuNo}".
    line_key: str


@dataclass(frozen=True, slots=True)
class SearchedOrder:
    """An order as the order search shows it: its status and each line's skuNo and count
    (the search has no productNo and no update date; the detail has both)."""

    order_no: str
    status: str
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Order:
    order_no: str
    status: str
    ordered_at: dt.datetime | None
    updated_at: dt.datetime | None
    lines: tuple[OrderLine, ...] = ()
