"""The futureshop sandbox's data: shops with their products, SKU stock, orders and tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# futureshop answers in Japan time, without an offset (see futureshop-samples/).
JST = dt.timezone(dt.timedelta(hours=9), "JST")


def jst_now() -> dt.datetime:
    return dt.datetime.now(JST).replace(microsecond=0)


def fs_datetime(value: dt.datetime | None) -> str:
    """futureshop's form: 2021-07-07T21:16:17 (JST, no offset); "" when there is none."""
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S") if value else ""


def parse_fs_datetime(value: str) -> dt.datetime:
    """2021-07-07T21:16:17 read as JST, or any ISO 8601 form with its offset (or Z)."""
    parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "+"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=JST)


@dataclass
class Sku:
    sku_no: str
    vertical_no: str = ""
    horizontal_no: str = ""
    jan_code: str = ""
    count: int = 0


@dataclass
class Product:
    id: int  # futureshop's numeric id; inventory search pages in its order
    product_no: str
    name: str
    inventory_enabled: bool  # False: "NotManagementSettings" on update
    skus: list[Sku]

    def sku(self, vertical_no: str, horizontal_no: str) -> Sku | None:
        return next(
            (
                s
                for s in self.skus
                if s.vertical_no == vertical_no and s.horizontal_no == horizontal_no
            ),
            None,
        )


@dataclass
class Line:
    product_no: str
    sku_no: str
    name: str
    count: int  # 0: the line was taken off the order (not shown in answers)


@dataclass
class Order:
    order_no: str
    status: str
    ordered_at: dt.datetime
    updated_at: dt.datetime
    lines: list[Line]
    payment_status: str = "NOTRECEIVED"


@dataclass
class Token:
    token: str
    shop_key: str
    expires_at: dt.datetime


@dataclass
class Shop:
    shop_key: str  # X-SHOP-KEY
    client_id: str
    client_secret: str
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    next_product_id: int = 1
    next_order: int = 1

    @property
    def shop_id(self) -> str:
        """What the kit's faults, rate limits and call log key on: the shop key."""
        return self.shop_key

    def sku_find(self, sku_no: str) -> tuple[Product, Sku] | None:
        for product in self.products.values():
            for sku in product.skus:
                if sku.sku_no == sku_no:
                    return product, sku
        return None
