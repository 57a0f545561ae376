"""The RMS sandbox's data: shops with their catalogue, stock and orders; RMS's two date forms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..types import JST


def jst_now() -> dt.datetime:
    return dt.datetime.now(JST).replace(microsecond=0)


def iso(value: dt.datetime | None) -> str | None:
    """Inventory and Item API form: 2022-01-01T19:00:00+09:00."""
    return value.astimezone(JST).isoformat(timespec="seconds") if value else None


def rms(value: dt.datetime | None) -> str | None:
    """Order API form: 2018-07-24T16:01:22+0900."""
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S+0900") if value else None


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

    def stock_write(
        self, manage_number: str, variant_id: str, quantity: int, now: dt.datetime
    ) -> None:
        """Set a stock row, creating it: RMS keeps stock for SKUs it does not list."""
        key = (manage_number.lower(), variant_id)
        row = self.stock.get(key)
        if row is None:
            self.stock[key] = Stock(quantity=quantity, created=now, updated=now)
        else:
            row.quantity, row.updated = quantity, now

    def stock_shift(
        self, manage_number: str, variant_id: str, delta: int, now: dt.datetime
    ) -> None:
        """What an order does to stock: never below zero, nothing for a SKU without a row."""
        row = self.stock.get((manage_number, variant_id))
        if row is not None:
            row.quantity = max(row.quantity + delta, 0)
            row.updated = now
