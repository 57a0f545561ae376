"""eBay's Sell Inventory v1 as far as a stock sync meets it: inventory items, offers and
bulkUpdatePriceQuantity, with the revision limit of a listing.

What eBay's pages contradict is a setting (see `state.CONFIG`): how `offset` is read (records
to skip, or a page number), what `size` counts, the largest `limit`, whether a call may name
several SKUs, whether a listing shows its offer's quantity or the smaller of offer and item,
and what a listing does at 0 (out of stock, or ended). Choices of the sandbox where eBay says
nothing are marked "sandbox".
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from sync.sandbox.errors import ApiError

from .errors import (
    INVENTORY,
    MSG_AUCTION_ALLOCATION,
    MSG_CANNOT_REVISE,
    MSG_NOT_FOUND_ENTITY,
    MSG_REVISION_LIMIT,
    MSG_SKU_INVALID,
    MSG_SKU_UNIQUE,
    MSG_SYSTEM,
    MSG_USER,
    REQUEST,
    error_entry,
    inventory_error,
    not_serializable,
)
from .model import (
    ACTIVE,
    AUCTION,
    ENDED,
    FIXED_PRICE,
    OUT_OF_STOCK,
    PUBLISHED,
    Item,
    Offer,
    Seller,
)

SKU_MAX = 50
BULK_MAX = 25  # entries of bulkUpdatePriceQuantity, SKUs of bulkGetInventoryItem
OFFERS_PER_ENTRY_MAX = 25
SKU_SAFE_RE = re.compile(r"^[A-Za-z0-9._-]+$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")
MARKETPLACE_RE = re.compile(r"^EBAY_[A-Z_]+$")
# The top-level fields of an inventory item the sandbox keeps; others are dropped, as eBay's
# binder drops what it does not know.
ITEM_FIELDS = (
    "product",
    "condition",
    "conditionDescription",
    "conditionDescriptors",
    "packageWeightAndSize",
    "availability",
)
CONDITIONS = frozenset(
    {
        "NEW",
        "LIKE_NEW",
        "NEW_OTHER",
        "NEW_WITH_DEFECTS",
        "MANUFACTURER_REFURBISHED",
        "CERTIFIED_REFURBISHED",
        "EXCELLENT_REFURBISHED",
        "VERY_GOOD_REFURBISHED",
        "GOOD_REFURBISHED",
        "SELLER_REFURBISHED",
        "USED_EXCELLENT",
        "USED_VERY_GOOD",
        "USED_GOOD",
        "USED_ACCEPTABLE",
        "FOR_PARTS_OR_NOT_WORKING",
        "PRE_OWNED_EXCELLENT",
        "PRE_OWNED_FAIR",
    }
)


class EntryRefused(Exception):
    """One entry of a bulk update refused: its HTTP status and eBay error."""

    def __init__(
        self, status: int, error_id: int, message: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        category = "APPLICATION" if status >= 500 else REQUEST
        self.errors = [error_entry(error_id, INVENTORY, category, message, None, parameters)]


@dataclass
class EntryPlan:
    """What one bulk update entry will write, checked in full before anything is."""

    item: Item | None
    quantity: int | None
    offers: list[tuple[Offer, int | None, str | None]] = field(default_factory=list)
    listings: set[str] = field(default_factory=set)  # listings revised by this entry


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def page_params(
    query: dict[str, str], *, default_limit: int, max_limit: int | None
) -> tuple[int, int]:
    """(limit, offset) of an Inventory API list; invalid values are 25706."""
    try:
        limit = int(query.get("limit", default_limit))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise inventory_error(
            400,
            25706,
            "You have provided invalid pagination values. limit and offset must be integers.",
        ) from None
    if limit < 1 or (max_limit is not None and limit > max_limit) or offset < 0:
        top = f" and {max_limit}" if max_limit is not None else ""
        raise inventory_error(
            400,
            25706,
            f"You have provided invalid pagination values. limit must be between 1{top}, "
            "offset 0 or more.",
            {"limit": limit, "offset": offset},
        )
    return limit, offset


def page_url(url: str, query: dict[str, str], limit: int, offset: int) -> str:
    """The same list with another offset, as an absolute link (eBay's `next`/`prev`)."""
    params = {**query, "limit": str(limit), "offset": str(offset)}
    return f"{url}?{urlencode(params, quote_via=quote, safe=':,')}"


class InventoryApi:
    """Part of `Sandbox`: inventory items, offers and bulkUpdatePriceQuantity."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    offset_mode: str
    size_mode: str
    inventory_limit_max: int
    revision_budget: int
    ebay_timezone: str
    bulk_update_max_skus: int
    listing_quantity_rule: str
    out_of_stock_control: bool
    sku_strict: bool
    stock_faults: list[dict[str, Any]]

    # --- shared ---------------------------------------------------------------------------

    def sku_valid(self, sku: Any) -> bool:
        if not isinstance(sku, str) or not sku or len(sku) > SKU_MAX:
            return False
        return not self.sku_strict or bool(SKU_SAFE_RE.match(sku))

    def sku_check(self, sku: Any) -> str:
        """A SKU eBay takes, or 25707 with eBay's (misleading: alphanumeric only) message."""
        if not self.sku_valid(sku):
            raise inventory_error(400, 25707, MSG_SKU_INVALID)
        return sku

    def _window(self, total: int, limit: int, offset: int) -> tuple[int, int | None, int | None]:
        """(first record, next offset, previous offset) under the configured offset meaning."""
        if self.offset_mode == "pages":
            start = offset * limit
            after = offset + 1 if start + limit < total else None
            before = offset - 1 if offset > 0 else None
        else:
            start = offset
            after = offset + limit if offset + limit < total else None
            before = max(offset - limit, 0) if offset > 0 else None
        return start, after, before

    def listing_quantity(self, seller: Seller, offer: Offer) -> int:
        """What the listing offers buyers: the offer's availableQuantity, or the item's when
        the offer has none; with the "min" rule the smaller of both (EBAY.md: the schema says
        the offer's wins, a guide says the smaller is shown)."""
        if offer.status != PUBLISHED or offer.listing_status == ENDED:
            return 0
        if offer.format == AUCTION:
            return 1
        item = seller.items.get(offer.sku)
        item_quantity = item.quantity if item and item.quantity is not None else 0
        if offer.available_quantity is None:
            return item_quantity
        if self.listing_quantity_rule == "min":
            return min(offer.available_quantity, item_quantity)
        return offer.available_quantity

    def listings_refresh(self, seller: Seller, sku: str) -> None:
        """A fixed-price listing at 0 goes out of stock (or ends, without out-of-stock
        control); one out of stock comes back when it has stock again."""
        for offer in seller.offers_of(sku):
            if offer.status != PUBLISHED or offer.format != FIXED_PRICE:
                continue
            quantity = self.listing_quantity(seller, offer)
            if offer.listing_status == ACTIVE and quantity == 0:
                offer.listing_status = OUT_OF_STOCK if self.out_of_stock_control else ENDED
            elif offer.listing_status == OUT_OF_STOCK and quantity > 0:
                offer.listing_status = ACTIVE

    @staticmethod
    def auction_allocation(seller: Seller, sku: str) -> int:
        """What live auctions of the SKU hold (one each): the item may not go below it."""
        return sum(
            1
            for offer in seller.offers_of(sku)
            if offer.format == AUCTION
            and offer.status == PUBLISHED
            and offer.listing_status == ACTIVE
        )

    # --- the revision limit ---------------------------------------------------------------

    def ebay_day(self) -> str:
        """The calendar day eBay counts revisions in (eBay's time: US Pacific unless set)."""
        return self.clock().astimezone(ZoneInfo(self.ebay_timezone)).date().isoformat()

    def revisions_today(self, seller: Seller, listing_id: str) -> int:
        day, count = seller.revisions.get(listing_id, ["", 0])
        return count if day == self.ebay_day() else 0

    def _revisions_check(self, seller: Seller, listings: set[str], refuse: Callable) -> None:
        for listing_id in sorted(listings):
            if self.revisions_today(seller, listing_id) >= self.revision_budget:
                raise refuse(listing_id)

    def _revisions_count(self, seller: Seller, listings: set[str]) -> None:
        day = self.ebay_day()
        for listing_id in listings:
            seller.revisions[listing_id] = [day, self.revisions_today(seller, listing_id) + 1]

    def _live_listings(self, seller: Seller, sku: str) -> set[str]:
        return {
            offer.listing_id
            for offer in seller.offers_of(sku)
            if offer.listing_id and offer.status == PUBLISHED and offer.listing_status != ENDED
        }

    # --- inventory items ------------------------------------------------------------------

    @staticmethod
    def item_json(item: Item) -> dict[str, Any]:
        return {"sku": item.sku, "locale": item.locale, **item.record}

    def inventory_list(self, seller: Seller, query: dict[str, str], url: str) -> dict[str, Any]:
        """GET /inventory_item: a page of the seller's items, in the order they were made."""
        limit, offset = page_params(query, default_limit=25, max_limit=self.inventory_limit_max)
        with self.lock:
            items = list(seller.items.values())
            total = len(items)
            start, after, before = self._window(total, limit, offset)
            page = items[start : start + limit]
            answer: dict[str, Any] = {"href": page_url(url, query, limit, offset)}
            if after is not None:
                answer["next"] = page_url(url, query, limit, after)
            if before is not None:
                answer["prev"] = page_url(url, query, limit, before)
            pages = -(-total // limit)
            answer.update(
                {
                    "limit": limit,
                    # EBAY.md: the schema calls it a page count, other answers an item count.
                    "size": pages if self.size_mode == "pages" else len(page),
                    "total": total,
                    "inventoryItems": [self.item_json(item) for item in page],
                }
            )
            return answer

    def inventory_get(self, seller: Seller, sku: str) -> dict[str, Any]:
        """GET /inventory_item/{sku}: SKUs are case-sensitive; unknown is 404 25710."""
        self.sku_check(sku)
        with self.lock:
            item = seller.items.get(sku)
            if item is None:
                raise inventory_error(404, 25710, MSG_NOT_FOUND_ENTITY, {"sku": sku})
            return self.item_json(item)

    def inventory_bulk_get(self, seller: Seller, body: Any) -> tuple[int, dict[str, Any]]:
        """POST /bulk_get_inventory_item: up to 25 SKUs; 207 when some are not there."""
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            raise not_serializable("requests")
        wanted = body["requests"]
        if not all(isinstance(r, dict) and isinstance(r.get("sku"), str) for r in wanted):
            raise not_serializable("requests.sku")
        skus = [r["sku"] for r in wanted]
        if not skus or len(skus) > BULK_MAX:
            raise inventory_error(
                400,
                25727,
                f"The number of InventoryItems in the request cannot exceed {BULK_MAX}.",
            )
        if len(set(skus)) < len(skus):
            raise inventory_error(400, 25734, MSG_SKU_UNIQUE)
        for sku in skus:
            self.sku_check(sku)
        responses = []
        with self.lock:
            for sku in skus:
                item = seller.items.get(sku)
                if item is None:
                    error = error_entry(
                        25702,
                        INVENTORY,
                        REQUEST,
                        f"SKU {sku} is not available in the system",
                        None,
                        {"sku": sku},
                    )
                    responses.append({"statusCode": 404, "sku": sku, "errors": [error]})
                else:
                    responses.append(
                        {"statusCode": 200, "sku": sku, "inventoryItem": self.item_json(item)}
                    )
        status = 200 if all(r["statusCode"] == 200 for r in responses) else 207
        return status, {"responses": responses}

    def _record_check(self, body: Any) -> dict[str, Any]:
        """The record a createOrReplaceInventoryItem body makes: known fields only, each of
        the type eBay's binder wants (else 2004 "Could not serialize field [...]")."""
        if not isinstance(body, dict):
            raise not_serializable("")
        record = {key: body[key] for key in ITEM_FIELDS if body.get(key) is not None}
        product = record.get("product")
        if product is not None:
            if not isinstance(product, dict):
                raise not_serializable("product")
            for key in ("title", "description", "brand", "mpn", "epid", "subtitle"):
                if product.get(key) is not None and not isinstance(product[key], str):
                    raise not_serializable(f"product.{key}")
            for key in ("imageUrls", "ean", "upc", "isbn", "videoIds"):
                if product.get(key) is not None and not _string_list(product[key]):
                    raise not_serializable(f"product.{key}")
            aspects = product.get("aspects")
            if aspects is not None and not (
                isinstance(aspects, dict) and all(_string_list(v) for v in aspects.values())
            ):
                raise not_serializable("product.aspects")
        condition = record.get("condition")
        if condition is not None and condition not in CONDITIONS:
            raise not_serializable("condition")
        availability = record.get("availability")
        if availability is not None:
            ship = (
                availability.get("shipToLocationAvailability")
                if isinstance(availability, dict)
                else None
            )
            if not isinstance(availability, dict) or (
                ship is not None and not isinstance(ship, dict)
            ):
                raise not_serializable("availability.shipToLocationAvailability")
            quantity = (ship or {}).get("quantity")
            if quantity is not None and not _is_int(quantity):
                raise not_serializable("availability.shipToLocationAvailability.quantity")
            if quantity is not None and quantity < 0:
                raise inventory_error(
                    400,
                    25709,
                    "Invalid value for availability.shipToLocationAvailability.quantity.",
                    {"fieldName": "availability.shipToLocationAvailability.quantity"},
                )
        return record

    def inventory_replace(
        self, seller: Seller, sku: str, body: Any, content_language: str | None
    ) -> int:
        """PUT /inventory_item/{sku}: creates the item (201) or REPLACES it whole (204):
        whatever the body leaves out is gone afterwards, the quantity included. A replace
        that changes something revises every live listing of the SKU."""
        self.sku_check(sku)
        if not content_language or not LANGUAGE_RE.match(content_language.strip()):
            raise inventory_error(
                400,
                25709,
                "Invalid value for header Content-Language.",
                {"fieldName": "Content-Language"},
            )
        record = self._record_check(body)
        locale = content_language.strip().replace("-", "_")
        with self.lock:
            item = seller.items.get(sku)
            new = Item(sku=sku, locale=locale, record=record)
            if self.auction_allocation(seller, sku) > (new.quantity or 0):
                raise inventory_error(400, 25759, MSG_AUCTION_ALLOCATION, {"sku": sku})
            if item is None:
                seller.items[sku] = new
                return 201
            listings = set()
            if (item.locale, item.record) != (new.locale, new.record):
                listings = self._live_listings(seller, sku)

            def refuse(listing_id: str) -> ApiError:
                detail = MSG_REVISION_LIMIT.format(
                    listing_id=listing_id, budget=self.revision_budget
                )
                return inventory_error(
                    400, 25019, MSG_CANNOT_REVISE.format(detail=detail), {"listingId": listing_id}
                )

            self._revisions_check(seller, listings, refuse)
            seller.items[sku] = new
            self._revisions_count(seller, listings)
            self.listings_refresh(seller, sku)
            return 204

    # --- offers -----------------------------------------------------------------------------

    @staticmethod
    def offer_json(offer: Offer) -> dict[str, Any]:
        pricing_key = "auctionStartPrice" if offer.format == AUCTION else "price"
        answer: dict[str, Any] = {
            "offerId": offer.offer_id,
            "sku": offer.sku,
            "marketplaceId": offer.marketplace_id,
            "format": offer.format,
            "listingDuration": "GTC" if offer.format == FIXED_PRICE else "DAYS_7",
        }
        if offer.available_quantity is not None:
            answer["availableQuantity"] = offer.available_quantity
        answer.update(
            {
                "categoryId": offer.category_id,
                "merchantLocationKey": offer.merchant_location_key,
                "pricingSummary": {pricing_key: {"value": offer.price, "currency": offer.currency}},
                "listingPolicies": {
                    "fulfillmentPolicyId": "6196932000",
                    "paymentPolicyId": "6196933000",
                    "returnPolicyId": "6196934000",
                },
                "status": offer.status,
            }
        )
        if offer.status == PUBLISHED and offer.listing_id:
            answer["listing"] = {
                "listingId": offer.listing_id,
                "listingStatus": offer.listing_status,
                "soldQuantity": offer.sold_quantity,
            }
        return answer

    def offer_list(self, seller: Seller, query: dict[str, str], url: str) -> dict[str, Any]:
        """GET /offer?sku=: the SKU's offers. Without a SKU eBay answers 25707 ("invalid
        value for a SKU"); a SKU without offers is 404 25713."""
        sku = self.sku_check(query.get("sku"))
        fmt = query.get("format")
        if fmt is not None and fmt not in (FIXED_PRICE, AUCTION):
            raise inventory_error(400, 25709, "Invalid value for format.", {"fieldName": "format"})
        marketplace = query.get("marketplace_id")
        if marketplace is not None and not MARKETPLACE_RE.match(marketplace):
            raise inventory_error(
                400, 25709, "Invalid value for marketplace_id.", {"fieldName": "marketplace_id"}
            )
        limit, offset = page_params(query, default_limit=100, max_limit=None)
        with self.lock:
            offers = [
                offer
                for offer in seller.offers_of(sku)
                if (fmt is None or offer.format == fmt)
                and (marketplace is None or offer.marketplace_id == marketplace)
            ]
            if not offers:
                raise inventory_error(
                    404, 25713, "This Offer is not available : no offer for this SKU.", {"sku": sku}
                )
            total = len(offers)
            start, after, before = self._window(total, limit, offset)
            page = offers[start : start + limit]
            answer: dict[str, Any] = {"href": page_url(url, query, limit, offset)}
            if after is not None:
                answer["next"] = page_url(url, query, limit, after)
            if before is not None:
                answer["prev"] = page_url(url, query, limit, before)
            answer.update(
                {
                    "limit": limit,
                    "size": len(page),
                    "total": total,
                    "offers": [self.offer_json(offer) for offer in page],
                }
            )
            return answer

    # --- bulkUpdatePriceQuantity ------------------------------------------------------------

    @staticmethod
    def _entries_check(body: Any) -> list[dict[str, Any]]:
        """The entries, each of the types eBay's binder wants (else the whole call is 2004)."""
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            raise not_serializable("requests")
        for entry in body["requests"]:
            if not isinstance(entry, dict):
                raise not_serializable("requests")
            if entry.get("sku") is not None and not isinstance(entry["sku"], str):
                raise not_serializable("requests.sku")
            ship = entry.get("shipToLocationAvailability")
            if ship is not None and not isinstance(ship, dict):
                raise not_serializable("requests.shipToLocationAvailability")
            if ship and ship.get("quantity") is not None and not _is_int(ship["quantity"]):
                raise not_serializable("requests.shipToLocationAvailability.quantity")
            offers = entry.get("offers")
            if offers is not None and not isinstance(offers, list):
                raise not_serializable("requests.offers")
            for offer in offers or []:
                if not isinstance(offer, dict) or (
                    offer.get("offerId") is not None and not isinstance(offer["offerId"], str)
                ):
                    raise not_serializable("requests.offers.offerId")
                quantity = offer.get("availableQuantity")
                if quantity is not None and not _is_int(quantity):
                    raise not_serializable("requests.offers.availableQuantity")
                price = offer.get("price")
                if price is not None and not isinstance(price, dict):
                    raise not_serializable("requests.offers.price")
        return body["requests"]

    def stock_bulk_update(self, seller: Seller, body: Any) -> tuple[int, dict[str, Any]]:
        """POST /bulk_update_price_quantity: each entry is checked whole, then applied or
        refused on its own (a refused entry writes nothing, the others are applied); 200 when
        every entry succeeded, else 207. One response per offer named, or one per SKU."""
        entries = self._entries_check(body)
        if not entries or len(entries) > BULK_MAX:
            raise inventory_error(
                400,
                25709,
                f"Invalid value for requests. Send 1 to {BULK_MAX} requests.",
                {"fieldName": "requests"},
            )
        if any(len(entry.get("offers") or []) > OFFERS_PER_ENTRY_MAX for entry in entries):
            raise inventory_error(
                400,
                25709,
                f"Invalid value for offers. At most {OFFERS_PER_ENTRY_MAX} offers per SKU.",
                {"fieldName": "offers"},
            )
        skus = {entry.get("sku") for entry in entries if entry.get("sku") is not None}
        if len(skus) > self.bulk_update_max_skus:
            # EBAY.md: the method page says one SKU per call, the request type 25 entries.
            raise inventory_error(
                400,
                25002,
                f"{MSG_USER} At most {self.bulk_update_max_skus} SKU(s) can be updated per call.",
            )
        responses: list[dict[str, Any]] = []
        with self.lock:
            for entry in entries:
                responses.extend(self._entry_apply(seller, entry))
        status = 200 if all(r["statusCode"] == 200 for r in responses) else 207
        return status, {"responses": responses}

    def _entry_apply(self, seller: Seller, entry: dict[str, Any]) -> list[dict[str, Any]]:
        offers = entry.get("offers") or []
        sku = entry.get("sku")
        try:
            plan = self._entry_plan(seller, entry)
        except EntryRefused as refused:
            status, errors = refused.status, refused.errors
        else:
            status, errors = 200, []
            if plan.item is not None:
                sku = plan.item.sku
                if plan.quantity is not None:
                    plan.item.quantity = plan.quantity
            for offer, quantity, price in plan.offers:
                if quantity is not None:
                    offer.available_quantity = quantity
                if price is not None:
                    offer.price = price
            self._revisions_count(seller, plan.listings)
            if sku is not None:
                self.listings_refresh(seller, sku)

        def response(offer_id: str | None) -> dict[str, Any]:
            answer: dict[str, Any] = {}
            if offer_id is not None:
                answer["offerId"] = offer_id
            if sku is not None:
                answer["sku"] = sku
            answer["statusCode"] = status
            if errors:
                answer["errors"] = errors
            return answer

        if offers:
            return [response(offer.get("offerId")) for offer in offers]
        return [response(None)]

    def _stock_fault_take(self, seller: Seller, sku: str) -> bool:
        """Whether an injected per-entry system error (25001) hits this SKU's entry."""
        for fault in self.stock_faults:
            if fault["seller"] == seller.username and fault["sku"] in ("*", sku):
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    self.stock_faults.remove(fault)
                return True
        return False

    def _entry_plan(self, seller: Seller, entry: dict[str, Any]) -> EntryPlan:
        """Check one entry whole; what it will write, or EntryRefused."""
        sku = entry.get("sku")
        ship = entry.get("shipToLocationAvailability") or {}
        quantity = ship.get("quantity")
        offers_raw = entry.get("offers") or []
        if sku is None and quantity is not None:
            raise EntryRefused(400, 25709, "Invalid value for sku.", {"fieldName": "sku"})
        if sku is None and not offers_raw:
            raise EntryRefused(400, 25002, f"{MSG_USER} Give a sku or offers.")
        item = None
        if sku is not None:
            if not self.sku_valid(sku):
                raise EntryRefused(400, 25707, MSG_SKU_INVALID)
            item = seller.items.get(sku)
            if item is None:
                raise EntryRefused(
                    404,
                    25702,
                    f"{sku} could not be found or is not available in the system.",
                    {"skuValue": sku},
                )
        plan = EntryPlan(item=item, quantity=None)
        seen: set[str] = set()
        for raw in offers_raw:
            offer_id = raw.get("offerId")
            if not offer_id:
                raise EntryRefused(
                    400, 25709, "Invalid value for offerId.", {"fieldName": "offerId"}
                )
            if offer_id in seen:
                raise EntryRefused(400, 25002, f"{MSG_USER} Offer {offer_id} is named twice.")
            seen.add(offer_id)
            offer = seller.offers.get(offer_id)
            if offer is None:
                raise EntryRefused(
                    404, 25713, f"This Offer is not available : {offer_id}.", {"offerId": offer_id}
                )
            if plan.item is not None and offer.sku != plan.item.sku:
                raise EntryRefused(
                    400, 25002, f"{MSG_USER} Offer {offer_id} is not an offer of SKU {sku}."
                )
            if plan.item is None:
                plan.item = seller.items.get(offer.sku)
                sku = offer.sku
            if offer.status != PUBLISHED or offer.listing_status == ENDED:
                # The call revises live listings only; an unpublished offer needs updateOffer.
                raise EntryRefused(
                    400,
                    25713,
                    f"This Offer is not available : {offer_id} is not published.",
                    {"offerId": offer_id},
                )
            available = raw.get("availableQuantity")
            price = self._price_check(offer, raw.get("price"))
            if available is None and price is None:
                raise EntryRefused(
                    400, 25002, f"{MSG_USER} availableQuantity or price is required."
                )
            if available is not None and offer.format == AUCTION:
                raise EntryRefused(
                    400,
                    25709,
                    "Invalid value for availableQuantity. "
                    "availableQuantity is not applicable for auction offer.",
                    {"fieldName": "availableQuantity"},
                )
            if available is not None and available < 0:
                raise EntryRefused(
                    400,
                    25709,
                    "Invalid value for availableQuantity.",
                    {"fieldName": "availableQuantity"},
                )
            plan.offers.append((offer, available, price))
            if (available is not None and available != offer.available_quantity) or (
                price is not None and price != offer.price
            ):
                plan.listings.add(offer.listing_id or offer.offer_id)
        if quantity is not None and plan.item is not None:
            if quantity < 0:
                raise EntryRefused(
                    400, 25709, "Invalid value for quantity.", {"fieldName": "quantity"}
                )
            if quantity < self.auction_allocation(seller, plan.item.sku):
                raise EntryRefused(400, 25759, MSG_AUCTION_ALLOCATION)
            plan.quantity = quantity
            if quantity != plan.item.quantity:
                plan.listings |= self._live_listings(seller, plan.item.sku)
        if sku is not None and self._stock_fault_take(seller, sku):
            raise EntryRefused(500, 25001, MSG_SYSTEM)

        def refuse(listing_id: str) -> EntryRefused:
            message = MSG_REVISION_LIMIT.format(listing_id=listing_id, budget=self.revision_budget)
            return EntryRefused(400, 25002, message, {"listingId": listing_id})

        self._revisions_check(seller, plan.listings, refuse)
        return plan

    @staticmethod
    def _price_check(offer: Offer, raw: dict[str, Any] | None) -> str | None:
        """A new price as eBay keeps it ("12.50"), or None when none was sent."""
        if raw is None:
            return None
        try:
            value = Decimal(str(raw.get("value")))
        except InvalidOperation:
            value = Decimal(0)
        if (
            not value.is_finite()
            or value <= 0
            or raw.get("currency", offer.currency) != (offer.currency)
        ):
            raise EntryRefused(400, 25709, "Invalid value for price.", {"fieldName": "price"})
        return f"{value:.2f}"
