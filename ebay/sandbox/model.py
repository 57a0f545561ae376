"""The eBay sandbox's data: apps, sellers with their items, offers and orders, and OAuth grants.

Plain dataclasses under the sandbox's one lock; `state.py` saves and loads them. eBay speaks
UTC with milliseconds and a "Z" (2026-03-01T00:00:00.000Z); the sandbox keeps aware datetimes
and only formats at the edge.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

UTC = dt.UTC

SCOPE_BASE = "https://api.ebay.com/oauth/api_scope"
SCOPE_INVENTORY = f"{SCOPE_BASE}/sell.inventory"
SCOPE_INVENTORY_READ = f"{SCOPE_BASE}/sell.inventory.readonly"
SCOPE_FULFILLMENT = f"{SCOPE_BASE}/sell.fulfillment"
SCOPE_FULFILLMENT_READ = f"{SCOPE_BASE}/sell.fulfillment.readonly"
# What the consent page knows; a scope outside these is "invalid_scope", as at eBay.
KNOWN_SCOPES = (
    SCOPE_BASE,
    SCOPE_INVENTORY,
    SCOPE_INVENTORY_READ,
    SCOPE_FULFILLMENT,
    SCOPE_FULFILLMENT_READ,
    f"{SCOPE_BASE}/sell.account",
    f"{SCOPE_BASE}/sell.account.readonly",
    f"{SCOPE_BASE}/sell.marketing",
    f"{SCOPE_BASE}/sell.marketing.readonly",
    f"{SCOPE_BASE}/sell.finances",
    f"{SCOPE_BASE}/sell.analytics.readonly",
    f"{SCOPE_BASE}/commerce.identity.readonly",
)

FIXED_PRICE = "FIXED_PRICE"
AUCTION = "AUCTION"
PUBLISHED = "PUBLISHED"
UNPUBLISHED = "UNPUBLISHED"
ACTIVE = "ACTIVE"
OUT_OF_STOCK = "OUT_OF_STOCK"
ENDED = "ENDED"

NOT_STARTED = "NOT_STARTED"
IN_PROGRESS = "IN_PROGRESS"
FULFILLED = "FULFILLED"
NONE_REQUESTED = "NONE_REQUESTED"
CANCELED = "CANCELED"

EBAY_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")


def utc_now() -> dt.datetime:
    """Now, to the millisecond eBay shows."""
    now = dt.datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def ebay_datetime(value: dt.datetime) -> str:
    """eBay's form: 2026-03-01T09:15:02.123Z (UTC, milliseconds, "Z")."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_ebay_datetime(value: str) -> dt.datetime:
    """2026-03-01T00:00:00.000Z (milliseconds optional); anything else is a ValueError."""
    if not EBAY_DATETIME_RE.match(value):
        raise ValueError(value)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class App:
    """A developer application: its keyset and its RuName (the redirect the consent uses)."""

    client_id: str
    client_secret: str
    ru_name: str
    accept_url: str
    decline_url: str
    name: str = ""
    scopes: list[str] = field(default_factory=lambda: list(KNOWN_SCOPES))

    @property
    def shop_id(self) -> str:
        """What the kit's faults, rate limits and call log key a token call on: the app."""
        return self.client_id


@dataclass
class Visitor:
    """Whoever opens the consent page (a browser, not yet anybody)."""

    shop_id: str


@dataclass
class Item:
    """An inventory item: the record createOrReplaceInventoryItem stored, as it was sent.

    `record` holds product, condition, availability... exactly what the last PUT carried, so a
    replace that leaves a field out really loses it.
    """

    sku: str
    locale: str
    record: dict[str, Any]

    @property
    def quantity(self) -> int | None:
        """availability.shipToLocationAvailability.quantity, None when the record has none."""
        ship = self.record.get("availability", {}).get("shipToLocationAvailability", {})
        quantity = ship.get("quantity")
        return quantity if isinstance(quantity, int) else None

    @quantity.setter
    def quantity(self, value: int) -> None:
        availability = self.record.setdefault("availability", {})
        availability.setdefault("shipToLocationAvailability", {})["quantity"] = value


@dataclass
class Offer:
    """An offer of an item on one marketplace; published, it is a listing."""

    offer_id: str
    sku: str
    marketplace_id: str = "EBAY_US"
    format: str = FIXED_PRICE
    available_quantity: int | None = None  # None: the offer never set one
    price: str = "10.00"
    currency: str = "USD"
    merchant_location_key: str = "default"
    category_id: str = "29223"
    status: str = PUBLISHED
    listing_id: str | None = None
    listing_status: str = ACTIVE
    sold_quantity: int = 0
    legacy_variation_id: str | None = None  # the variation of a multiple-variation listing


@dataclass
class LineItem:
    line_item_id: str
    legacy_item_id: str
    title: str
    quantity: int
    unit_price: str
    currency: str
    sku: str | None = None  # None: the listing has no SKU (not made with the Inventory API)
    offer_id: str | None = None
    legacy_variation_id: str | None = None
    sold_format: str = FIXED_PRICE
    marketplace_id: str = "EBAY_US"
    fulfillment_status: str = NOT_STARTED


@dataclass
class Order:
    order_id: str
    created: dt.datetime
    modified: dt.datetime
    lines: list[LineItem]
    buyer: str
    fulfillment_status: str = NOT_STARTED
    payment_status: str = "PAID"
    cancel_state: str = NONE_REQUESTED
    cancel_requests: list[dict[str, Any]] = field(default_factory=list)
    cancelled_at: dt.datetime | None = None


class OfferBook(dict):
    """offer id -> Offer, with an index by SKU (a seller of 20,000 SKUs answers a bulk
    update without scanning every offer for each entry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_sku: dict[str, list[Offer]] | None = None

    def __setitem__(self, key: str, value: Offer) -> None:
        super().__setitem__(key, value)
        self._by_sku = None

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._by_sku = None

    def of_sku(self, sku: str) -> list[Offer]:
        if self._by_sku is None:
            index: dict[str, list[Offer]] = {}
            for offer in self.values():
                index.setdefault(offer.sku, []).append(offer)
            self._by_sku = index
        return list(self._by_sku.get(sku, ()))


@dataclass
class Seller:
    """An eBay account that sells: its inventory, offers, orders and listing revisions."""

    username: str
    marketplaces: list[str] = field(default_factory=lambda: ["EBAY_US"])
    items: dict[str, Item] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=OfferBook)
    orders: dict[str, Order] = field(default_factory=dict)
    # listing id -> [eBay calendar day (ISO date), revisions that day]
    revisions: dict[str, list[Any]] = field(default_factory=dict)
    # Listings made outside the Inventory API: legacy item id -> title (orders carry no SKU).
    legacy_listings: dict[str, str] = field(default_factory=dict)

    @property
    def shop_id(self) -> str:
        """What the kit's faults, rate limits and call log key an API call on: the seller."""
        return self.username

    def offers_of(self, sku: str) -> list[Offer]:
        if isinstance(self.offers, OfferBook):
            return self.offers.of_sku(sku)
        return [offer for offer in self.offers.values() if offer.sku == sku]


@dataclass
class AuthCode:
    code: str
    client_id: str
    seller: str
    scopes: list[str]
    expires_at: dt.datetime
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    seller: str
    scopes: list[str]
    expires_at: dt.datetime
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    seller: str | None  # None: an application token (client credentials)
    scopes: list[str]
    expires_at: dt.datetime
    refresh_token: str | None = None  # the grant it came from: revoking it ends this too
