"""The eBay sandbox: apps, sellers and grants, composed with eBay's API families.

`auth.py` holds consent, the token endpoint and the gate, `inventory.py` Sell Inventory
(items, offers, bulkUpdatePriceQuantity and the revision limit), `orders.py` Sell Fulfillment
and what buyers do, `errors.py` eBay's error shapes, `pages.py` the consent HTML, `model.py`
the data; the kit (`sync.sandbox`) brings faults, the call log, rate limits and persistence.
Everything is plain Python under one lock; `server.py` only moves bytes.

What eBay's pages leave open or contradict is configurable (`CONFIG`, PUT /_sandbox/config):
token lifetimes, the revision budget and eBay's day, how `offset` and `size` read, the largest
inventory page, SKUs per bulk update, the listing quantity rule, out-of-stock control, the
answer to a wrong Content-Type, SKU strictness, order sort and window, daily quotas.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.sandbox.calls import Caller
from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault
from sync.sandbox.persistence import parse_datetime
from sync.sandbox.state import SandboxState

from . import errors
from .auth import AuthApi
from .errors import MALFORMED_BODY
from .inventory import InventoryApi
from .model import (
    ACTIVE,
    AUCTION,
    ENDED,
    FIXED_PRICE,
    OUT_OF_STOCK,
    PUBLISHED,
    SCOPE_FULFILLMENT,
    SCOPE_FULFILLMENT_READ,
    SCOPE_INVENTORY,
    SCOPE_INVENTORY_READ,
    UNPUBLISHED,
    AccessToken,
    App,
    AuthCode,
    Item,
    LineItem,
    Offer,
    Order,
    RefreshToken,
    Seller,
    utc_now,
)
from .orders import OrderApi

READ_INVENTORY = (SCOPE_INVENTORY, SCOPE_INVENTORY_READ)
WRITE_INVENTORY = (SCOPE_INVENTORY,)
READ_FULFILLMENT = (SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READ)


class Endpoint(NamedTuple):
    method: str
    path: str
    scopes: tuple[str, ...]  # any one opens it (eBay's OpenAPI `security`); () for OAuth


# Endpoint names (faults, rate limits, the call log), their routes and the scopes they accept.
ENDPOINTS = {
    "consent.page": Endpoint("GET", "/oauth2/authorize", ()),
    "consent.submit": Endpoint("POST", "/oauth2/authorize", ()),
    "token": Endpoint("POST", "/identity/v1/oauth2/token", ()),
    "inventory.list": Endpoint("GET", "/sell/inventory/v1/inventory_item", READ_INVENTORY),
    "inventory.get": Endpoint("GET", "/sell/inventory/v1/inventory_item/{sku}", READ_INVENTORY),
    "inventory.replace": Endpoint(
        "PUT", "/sell/inventory/v1/inventory_item/{sku}", WRITE_INVENTORY
    ),
    "inventory.bulk_get": Endpoint(
        "POST", "/sell/inventory/v1/bulk_get_inventory_item", READ_INVENTORY
    ),
    "offer.list": Endpoint("GET", "/sell/inventory/v1/offer", READ_INVENTORY),
    "stock.bulk_update": Endpoint(
        "POST", "/sell/inventory/v1/bulk_update_price_quantity", WRITE_INVENTORY
    ),
    "order.search": Endpoint("GET", "/sell/fulfillment/v1/order", READ_FULFILLMENT),
    "order.get": Endpoint("GET", "/sell/fulfillment/v1/order/{orderId}", READ_FULFILLMENT),
}
# eBay publishes daily quotas only (Inventory 2,000,000, Fulfillment 100,000, token 50,000 a
# day: `DAILY_QUOTAS`); per second it publishes nothing. These per-second windows are the
# sandbox's: about the Inventory quota spread over a day, and a few calls a second elsewhere.
DEFAULT_RATE_LIMITS = {
    "consent.page": 10.0,
    "consent.submit": 10.0,
    "token": 5.0,
    "inventory.list": 20.0,
    "inventory.get": 20.0,
    "inventory.replace": 20.0,
    "inventory.bulk_get": 20.0,
    "offer.list": 20.0,
    "stock.bulk_update": 20.0,
    "order.search": 5.0,
    "order.get": 5.0,
}
DAILY_QUOTAS = {"inventory": 2_000_000, "fulfillment": 100_000, "token": 50_000}

__all__ = ["DEFAULT_RATE_LIMITS", "ENDPOINTS", "ApiError", "Sandbox", "Seller"]


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return str(value)

    return check


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value}") from None
    return str(value)


def _positive(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _quotas(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or any(k not in DAILY_QUOTAS for k in value):
        raise ValueError(f"a map of {', '.join(DAILY_QUOTAS)} to calls a day")
    return {str(k): int(v) for k, v in value.items()}


class Sandbox(OrderApi, InventoryApi, AuthApi, SandboxState):
    """Apps and sellers, each seller with items, offers, orders and grants, and eBay's APIs."""

    malformed_body = MALFORMED_BODY

    # Settable at run time through PUT /_sandbox/config: camelCase -> (attribute, parser).
    CONFIG: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "tokenLifetime": ("token_lifetime", _positive),
        "refreshTokenLifetime": ("refresh_token_lifetime", _positive),
        "codeLifetime": ("code_lifetime", _positive),
        # ~250 revisions per listing per calendar day (eBay's notes on every write method).
        "revisionBudget": ("revision_budget", int),
        # eBay's calendar day (revisions, daily quotas): eBay's own time, US Pacific.
        "ebayTimezone": ("ebay_timezone", _timezone),
        # getInventoryItems/getOffers `offset`: documented as a page number, read as records
        # to skip elsewhere (EBAY.md); "records" unless set.
        "offsetMode": ("offset_mode", _choice("records", "pages")),
        # getInventoryItems `size`: the schema says pages, answers suggest items on the page.
        "sizeMode": ("size_mode", _choice("items", "pages")),
        "inventoryLimitMax": ("inventory_limit_max", _positive),  # 200 (an older page: 100)
        # The method page says one SKU per call, the request type 25 entries.
        "bulkUpdateMaxSkus": ("bulk_update_max_skus", _positive),
        # What a listing shows: the offer's availableQuantity ("offer", the schema) or the
        # smaller of offer and item ("min", a guide).
        "listingQuantityRule": ("listing_quantity_rule", _choice("offer", "min")),
        # At 0 a listing goes OUT_OF_STOCK (out-of-stock control on) or ENDED (off).
        "outOfStockControl": ("out_of_stock_control", bool),
        # A POST/PUT that is not application/json: 500 "Internal error" 2003, as reported of
        # live calls ("internal"), or 415 with 2004 ("415").
        "contentTypeError": ("content_type_error", _choice("internal", "415")),
        # SKUs outside [A-Za-z0-9._-] refused with 25707 (eBay's message says alphanumeric).
        "skuStrict": ("sku_strict", bool),
        # getOrders' order (eBay documents none): newest or oldest created first.
        "orderSort": ("order_sort", _choice("newest", "oldest")),
        "orderWindowDays": ("order_window_days", _positive),  # getOrders without a date: 90
        "dailyQuotas": ("daily_quotas", _quotas),
    }

    def __init__(
        self,
        *,
        rate_limits: dict[str, float] | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        hang_seconds: float = 40.0,
        seed: int = 0,
        token_lifetime: int = 7200,
        refresh_token_lifetime: int = 47_304_000,
        code_lifetime: int = 299,
        revision_budget: int = 250,
    ) -> None:
        super().__init__(
            rate_limits={**DEFAULT_RATE_LIMITS, **(rate_limits or {})}, hang_seconds=hang_seconds
        )
        self.clock = clock
        self.random = random.Random(seed)  # noqa: S311 - fake data, not security
        self.apps: dict[str, App] = {}
        self.sellers: dict[str, Seller] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.stock_faults: list[dict[str, Any]] = []
        self._quota_used: dict[tuple[str, str], tuple[str, int]] = {}
        self.next_id = 0
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.code_lifetime = code_lifetime
        self.revision_budget = revision_budget
        self.ebay_timezone = "America/Los_Angeles"
        self.offset_mode = "records"
        self.size_mode = "items"
        self.inventory_limit_max = 200
        self.bulk_update_max_skus = 25
        self.listing_quantity_rule = "offer"
        self.out_of_stock_control = True
        self.content_type_error = "internal"
        self.sku_strict = False
        self.order_sort = "newest"
        self.order_window_days = 90
        self.daily_quotas = dict(DAILY_QUOTAS)

    def id_next(self) -> int:
        """A fresh number for offer, listing, order and line ids (unique in the sandbox)."""
        with self.lock:
            self.next_id += 1
            return self.next_id

    # --- configuration ----------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {key: getattr(self, attr) for key, (attr, _) in self.CONFIG.items()}

    def config_set(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply every change or none (a bad value is a 400 naming it)."""
        with self.lock:
            parsed = {}
            for key, value in changes.items():
                if key not in self.CONFIG:
                    raise ApiError(400, {"error": f"unknown setting {key}"})
                attr, parse = self.CONFIG[key]
                try:
                    parsed[attr] = parse(value)
                except (TypeError, ValueError) as exc:
                    raise ApiError(400, {"error": f"{key}: {exc}"}) from None
            for attr, value in parsed.items():
                setattr(self, attr, value)
            return self.config()

    # --- sellers, items and offers (the control API) ---------------------------------------

    def seller_add(
        self,
        *,
        username: str,
        marketplaces: Iterable[str] | None = None,
        items: Iterable[dict[str, Any]] = (),
        legacy_listings: dict[str, str] | None = None,
    ) -> Seller:
        with self.lock:
            if username in self.sellers:
                raise ApiError(409, {"error": f"seller {username} exists"})
            seller = Seller(username=username)
            if marketplaces:
                seller.marketplaces = [str(m) for m in marketplaces]
            seller.legacy_listings = {str(k): str(v) for k, v in (legacy_listings or {}).items()}
            self.sellers[username] = seller
            try:
                for raw in items:
                    self.item_add(username, raw)
            except Exception:
                del self.sellers[username]
                raise
            return seller

    def seller(self, username: str) -> Seller:
        try:
            return self.sellers[username]
        except KeyError:
            raise ApiError(404, {"error": f"no seller {username}"}) from None

    def item_add(self, username: str, raw: dict[str, Any]) -> Item:
        """An item made as createOrReplaceInventoryItem would, without counting a revision:
        {"sku", "locale", "title" | "product", "condition", "quantity", "offers": [...]}."""
        with self.lock:
            seller = self.seller(username)
            sku = str(raw["sku"])
            if not self.sku_valid(sku):
                raise ApiError(400, {"error": f"invalid SKU {sku!r}"})
            if sku in seller.items:
                raise ApiError(409, {"error": f"item {sku} exists"})
            product = dict(raw.get("product") or {"title": str(raw.get("title") or sku)})
            record: dict[str, Any] = {"product": product, "condition": raw.get("condition", "NEW")}
            item = Item(sku=sku, locale=str(raw.get("locale", "en_US")), record=record)
            if raw.get("quantity") is not None:
                quantity = int(raw["quantity"])
                if quantity < 0:
                    raise ApiError(400, {"error": "quantity must be 0 or more"})
                item.quantity = quantity
            seller.items[sku] = item
            try:
                for offer in raw.get("offers", []):
                    self.offer_add(username, {**offer, "sku": sku})
            except Exception:
                del seller.items[sku]
                for offer_id in [o.offer_id for o in seller.offers_of(sku)]:
                    del seller.offers[offer_id]
                raise
            return item

    def offer_add(self, username: str, raw: dict[str, Any]) -> Offer:
        """An offer of an existing item: {"sku", "offerId", "marketplaceId", "format",
        "availableQuantity", "price", "currency", "status", "listingId" (variations share
        one), "listingStatus", "legacyVariationId", "merchantLocationKey"}."""
        with self.lock:
            seller = self.seller(username)
            sku = str(raw["sku"])
            if sku not in seller.items:
                raise ApiError(400, {"error": f"no item {sku}: add the item first"})
            offer_id = str(raw.get("offerId") or 5_000_000_000 + self.id_next())
            if offer_id in seller.offers:
                raise ApiError(409, {"error": f"offer {offer_id} exists"})
            marketplace = str(raw.get("marketplaceId", seller.marketplaces[0]))
            if marketplace not in seller.marketplaces:
                raise ApiError(400, {"error": f"{username} does not sell on {marketplace}"})
            fmt = str(raw.get("format", FIXED_PRICE))
            status = str(raw.get("status", PUBLISHED))
            listing_status = str(raw.get("listingStatus", ACTIVE))
            if (
                fmt not in (FIXED_PRICE, AUCTION)
                or status not in (PUBLISHED, UNPUBLISHED)
                or listing_status not in (ACTIVE, OUT_OF_STOCK, ENDED)
            ):
                raise ApiError(400, {"error": "bad format, status or listingStatus"})
            available = raw.get("availableQuantity")
            if available is not None and (fmt == AUCTION or int(available) < 0):
                raise ApiError(400, {"error": "availableQuantity: 0 or more, fixed price only"})
            listing_id = raw.get("listingId")
            if status == PUBLISHED and not listing_id:
                listing_id = str(110_000_000_000 + self.id_next())
            offer = Offer(
                offer_id=offer_id,
                sku=sku,
                marketplace_id=marketplace,
                format=fmt,
                available_quantity=None if available is None else int(available),
                price=f"{float(raw.get('price', 10)):.2f}",
                currency=str(raw.get("currency", "USD")),
                merchant_location_key=str(raw.get("merchantLocationKey", "default")),
                status=status,
                listing_id=str(listing_id) if status == PUBLISHED else None,
                listing_status=listing_status,
                legacy_variation_id=raw.get("legacyVariationId"),
            )
            seller.offers[offer_id] = offer
            self.listings_refresh(seller, sku)
            return offer

    def stock_set(self, username: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Set an item's quantity and/or offers' availableQuantity as the seller would in
        Seller Hub (no revision counted): {"sku", "quantity", "offers": {offerId: n}}."""
        with self.lock:
            seller = self.seller(username)
            sku = str(raw["sku"])
            item = seller.items.get(sku)
            if item is None:
                raise ApiError(404, {"error": f"no item {sku}"})
            if raw.get("quantity") is not None:
                if int(raw["quantity"]) < 0:
                    raise ApiError(400, {"error": "quantity must be 0 or more"})
                item.quantity = int(raw["quantity"])
            for offer_id, quantity in (raw.get("offers") or {}).items():
                offer = seller.offers.get(offer_id)
                if offer is None or offer.sku != sku or int(quantity) < 0:
                    raise ApiError(400, {"error": f"bad offer {offer_id}"})
                offer.available_quantity = int(quantity)
            self.listings_refresh(seller, sku)
            return self.stock_row(seller, item)

    def stock_row(self, seller: Seller, item: Item) -> dict[str, Any]:
        return {
            "sku": item.sku,
            "quantity": item.quantity,
            "offers": [
                {
                    "offerId": offer.offer_id,
                    "format": offer.format,
                    "status": offer.status,
                    "availableQuantity": offer.available_quantity,
                    "listingId": offer.listing_id,
                    "listingStatus": offer.listing_status if offer.listing_id else None,
                    "listingQuantity": self.listing_quantity(seller, offer),
                    "soldQuantity": offer.sold_quantity,
                    "revisionsToday": (
                        self.revisions_today(seller, offer.listing_id) if offer.listing_id else 0
                    ),
                }
                for offer in seller.offers_of(item.sku)
            ],
        }

    def stock_rows(self, username: str) -> list[dict[str, Any]]:
        with self.lock:
            seller = self.seller(username)
            return [self.stock_row(seller, item) for item in seller.items.values()]

    def stock_of(self, username: str, sku: str) -> dict[str, Any]:
        with self.lock:
            seller = self.seller(username)
            item = seller.items.get(sku)
            if item is None:
                raise ApiError(404, {"error": f"no item {sku}"})
            return self.stock_row(seller, item)

    def stock_fault_add(self, username: str, sku: str = "*", count: int = 1) -> dict[str, Any]:
        """The next `count` bulk update entries of `sku` ("*": any) answer 25001."""
        with self.lock:
            self.seller(username)
            fault = {"seller": username, "sku": sku, "remaining": int(count)}
            self.stock_faults.append(fault)
            return dict(fault)

    # --- the kit's hooks ------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"ok": True, "sellers": sorted(self.sellers), "apps": sorted(self.apps)}

    def fault_take(self, shop_id: str | None, endpoint: str) -> Fault | None:
        """The kit's fault, told which endpoint it hit (a "*" fault answers in the shape of
        the API it lands on)."""
        fault = super().fault_take(shop_id, endpoint)
        return None if fault is None else replace(fault, endpoint=endpoint)

    def fault_error(self, fault: Fault) -> ApiError:
        return errors.fault_error(fault)

    def rate_limited_error(self, retry_after: float) -> ApiError:
        return errors.too_many_requests(retry_after)

    def rate_check(self, shop: Caller, endpoint: str) -> None:
        """The kit's per-second window, then eBay's daily quota of the endpoint's API (per
        seller, per app for the token endpoint), reset at midnight eBay time."""
        super().rate_check(shop, endpoint)
        api = errors.family(endpoint)
        quota = self.daily_quotas.get(api)
        if quota is None:
            return
        with self.lock:
            day = self.ebay_day()
            used_day, used = self._quota_used.get((shop.shop_id, api), ("", 0))
            used = used if used_day == day else 0
            if used >= quota:
                now = self.clock().astimezone(ZoneInfo(self.ebay_timezone))
                midnight = dt.datetime.combine(
                    now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo
                )
                raise self.rate_limited_error(max(int((midnight - now).total_seconds()), 1))
            self._quota_used[(shop.shop_id, api)] = (day, used + 1)

    def platform_reset(self) -> None:
        self.apps.clear()
        self.sellers.clear()
        self.codes.clear()
        self.refresh_tokens.clear()
        self.access_tokens.clear()
        self.stock_faults.clear()
        self._quota_used.clear()

    def platform_dump(self) -> dict[str, Any]:
        return {
            "apps": [asdict(app) for app in self.apps.values()],
            "sellers": [asdict(seller) for seller in self.sellers.values()],
            "codes": [asdict(code) for code in self.codes.values()],
            "refreshTokens": [asdict(token) for token in self.refresh_tokens.values()],
            "accessTokens": [asdict(token) for token in self.access_tokens.values()],
            "nextId": self.next_id,
            "config": self.config(),
        }

    def platform_load(self, data: dict[str, Any]) -> None:
        self.platform_reset()
        for raw in data.get("apps", []):
            self.apps[raw["client_id"]] = App(**raw)
        for raw in data.get("sellers", []):
            seller = Seller(
                username=raw["username"],
                marketplaces=raw["marketplaces"],
                revisions=raw.get("revisions", {}),
                legacy_listings=raw.get("legacy_listings", {}),
            )
            for sku, item in raw.get("items", {}).items():
                seller.items[sku] = Item(**item)
            for offer_id, offer in raw.get("offers", {}).items():
                seller.offers[offer_id] = Offer(**offer)
            for order_id, order in raw.get("orders", {}).items():
                seller.orders[order_id] = Order(
                    **{
                        **order,
                        "created": parse_datetime(order["created"]),
                        "modified": parse_datetime(order["modified"]),
                        "cancelled_at": parse_datetime(order.get("cancelled_at")),
                        "lines": [LineItem(**line) for line in order["lines"]],
                    }
                )
            self.sellers[seller.username] = seller
        for key, kind, id_field, store in (
            ("codes", AuthCode, "code", self.codes),
            ("refreshTokens", RefreshToken, "token", self.refresh_tokens),
            ("accessTokens", AccessToken, "token", self.access_tokens),
        ):
            for raw in data.get(key, []):
                store[raw[id_field]] = kind(
                    **{**raw, "expires_at": parse_datetime(raw["expires_at"])}
                )
        self.next_id = int(data.get("nextId", self.next_id))
        if data.get("config"):
            self.config_set(data["config"])
