"""eBay's Sell Fulfillment v1 order reads (getOrders, getOrder) and what buyers and the seller
do to orders.

Placing an order takes the quantity from the listing as eBay does: the item's ship-to-home
quantity and the offer's availableQuantity go down, the listing's soldQuantity up (a listing
at 0 goes out of stock); cancelling gives it back; changing a line's quantity moves stock by
the difference; every change moves lastModifiedDate. getOrders leaves cancelRequests empty,
getOrder fills it, as eBay documents. Prices are realistic and computed, never stored by the
app under test.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sync.sandbox.errors import ApiError

from .errors import FULFILLMENT, REQUEST, error_entry, fulfillment_error
from .inventory import page_url
from .model import (
    ACTIVE,
    AUCTION,
    CANCELED,
    ENDED,
    FIXED_PRICE,
    FULFILLED,
    IN_PROGRESS,
    NONE_REQUESTED,
    NOT_STARTED,
    PUBLISHED,
    LineItem,
    Offer,
    Order,
    Seller,
    ebay_datetime,
    parse_ebay_datetime,
)

ORDER_IDS_MAX = 50
ORDERS_LIMIT_MAX = 200
ORDERS_LIMIT_DEFAULT = 50
TWO_YEARS = dt.timedelta(days=730)
# The only combinations eBay supports (its filter documentation).
STATUS_FILTERS = {
    frozenset({NOT_STARTED, IN_PROGRESS}),
    frozenset({FULFILLED, IN_PROGRESS}),
}
FEE_RATE = Decimal("0.1325")  # eBay's final value fee of most categories
LEGACY_PRICE = "19.99"


def _split_filter(raw: str) -> list[str]:
    """The criteria of `filter`: commas split them, except inside [...] and {...}."""
    parts, depth, current = [], 0, []
    for char in raw:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _range_parse(name: str, value: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start..] or [start..end], UTC ISO 8601; the checks and errors of getOrders."""
    if not (value.startswith("[") and value.endswith("]")) or ".." not in value:
        raise fulfillment_error(
            400,
            30800,
            f"Invalid filter value {value} for filter {name}",
            {"fieldvalue": value, "fieldname": name},
        )
    start_raw, _, end_raw = value[1:-1].partition("..")
    if not start_raw.strip():
        raise fulfillment_error(400, 30820, "Start date is missing")
    try:
        start = parse_ebay_datetime(start_raw.strip())
        end = parse_ebay_datetime(end_raw.strip()) if end_raw.strip() else None
    except ValueError:
        raise fulfillment_error(400, 30810, "Invalid date format") from None
    if end is not None and start > end:
        raise fulfillment_error(400, 30840, "Start date should be before end date")
    if start > now or (end is not None and end > now):
        raise fulfillment_error(400, 30850, "Start and end dates can't be in the future")
    if (end or now) - start > TWO_YEARS:
        raise fulfillment_error(
            400,
            30830,
            "Time range between start date and end date must be within '2' years.",
            {"allowedTime": 2},
        )
    return start, end or now


def filter_parse(raw: str, now: dt.datetime) -> dict[str, Any]:
    """getOrders' `filter` (already percent-decoded): creationdate, lastmodifieddate,
    orderfulfillmentstatus; anything else is 30700."""
    criteria: dict[str, Any] = {}
    for part in _split_filter(raw):
        name, _, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if name in ("creationdate", "lastmodifieddate"):
            criteria[name] = _range_parse(name, value, now)
        elif name == "orderfulfillmentstatus":
            statuses = frozenset(value.strip("{}").split("|"))
            if not (value.startswith("{") and value.endswith("}")) or statuses not in (
                STATUS_FILTERS
            ):
                raise fulfillment_error(
                    400,
                    30800,
                    f"Invalid filter value {value} for filter {name}",
                    {"fieldvalue": value, "fieldname": name},
                )
            criteria[name] = statuses
        else:
            raise fulfillment_error(400, 30700, f"Invalid filter name: {name}", {"fieldname": name})
    return criteria


def order_view(order: Order) -> dict[str, Any]:
    """An order as the control API shows it (a test's view, not eBay's shape)."""
    return {
        "orderId": order.order_id,
        "creationDate": ebay_datetime(order.created),
        "lastModifiedDate": ebay_datetime(order.modified),
        "orderFulfillmentStatus": order.fulfillment_status,
        "orderPaymentStatus": order.payment_status,
        "cancelState": order.cancel_state,
        "lines": [
            {
                "lineItemId": line.line_item_id,
                "sku": line.sku,
                "offerId": line.offer_id,
                "legacyItemId": line.legacy_item_id,
                "quantity": line.quantity,
                "lineItemFulfillmentStatus": line.fulfillment_status,
            }
            for line in order.lines
        ],
    }


class OrderApi:
    """Part of `Sandbox`: orders placed, changed, shipped and cancelled, and getOrders/getOrder."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    sellers: dict[str, Seller]
    seller: Callable[[str], Seller]
    random: random.Random
    id_next: Callable[[], int]
    listing_quantity: Callable[[Seller, Offer], int]
    listings_refresh: Callable[[Seller, str], None]
    order_window_days: int
    order_sort: str

    # --- what buyers and the seller do (the control API) ----------------------------------

    def _line_offer(self, seller: Seller, raw: dict[str, Any]) -> Offer | None:
        """The listing a buyer orders from: an offer, or None for a listing without SKU."""
        if raw.get("offerId") is not None:
            offer = seller.offers.get(str(raw["offerId"]))
            if offer is None:
                raise ApiError(404, {"error": f"no offer {raw['offerId']}"})
            return offer
        if raw.get("sku") is not None:
            live = [
                offer
                for offer in seller.offers_of(str(raw["sku"]))
                if offer.status == PUBLISHED and offer.listing_status == ACTIVE
            ]
            live.sort(key=lambda offer: offer.format != FIXED_PRICE)  # fixed price first
            if not live:
                raise ApiError(409, {"error": f"no live listing for SKU {raw['sku']}"})
            return live[0]
        legacy_id = str(raw.get("legacyItemId") or "")
        if legacy_id not in seller.legacy_listings:
            if not raw.get("title") or not legacy_id:
                raise ApiError(400, {"error": f"a line needs offerId, sku or legacyItemId: {raw}"})
            seller.legacy_listings[legacy_id] = str(raw["title"])
        return None

    def _take(self, seller: Seller, offer: Offer, quantity: int) -> None:
        item = seller.items.get(offer.sku)
        if item is not None and item.quantity is not None:
            item.quantity = max(item.quantity - quantity, 0)
        if offer.available_quantity is not None:
            offer.available_quantity = max(offer.available_quantity - quantity, 0)
        offer.sold_quantity += quantity
        if offer.format == AUCTION:
            offer.listing_status = ENDED  # an auction sells its one unit and ends
        self.listings_refresh(seller, offer.sku)

    def _give_back(self, seller: Seller, line: LineItem, quantity: int) -> None:
        offer = seller.offers.get(line.offer_id or "")
        if offer is None:
            return  # a listing without SKU: nothing of ours to give back
        item = seller.items.get(offer.sku)
        if item is not None and item.quantity is not None:
            item.quantity += quantity
        if offer.available_quantity is not None:
            offer.available_quantity += quantity
        offer.sold_quantity = max(offer.sold_quantity - quantity, 0)
        self.listings_refresh(seller, offer.sku)

    def _line_item_id(self) -> str:
        return str(10_000_000_000_000 + self.id_next())

    def order_place(
        self,
        username: str,
        lines: Iterable[dict[str, Any]],
        *,
        allow_oversell: bool = False,
        created: dt.datetime | None = None,
        buyer: str | None = None,
    ) -> Order:
        """A buyer checks out: each listing's quantity goes down, refused beyond it."""
        with self.lock:
            seller = self.seller(username)
            wanted: list[tuple[Offer | None, int, dict[str, Any]]] = []
            for raw in lines:
                quantity = int(raw.get("quantity", 1))
                if quantity < 1:
                    raise ApiError(400, {"error": f"quantity must be at least 1: {raw}"})
                wanted.append((self._line_offer(seller, raw), quantity, raw))
            if not wanted:
                raise ApiError(400, {"error": "an order needs at least one line"})
            demand: dict[str, int] = {}
            for offer, quantity, _ in wanted:
                if offer is not None:
                    if offer.status != PUBLISHED or offer.listing_status != ACTIVE:
                        raise ApiError(
                            409, {"error": f"listing of offer {offer.offer_id} is not live"}
                        )
                    demand[offer.offer_id] = demand.get(offer.offer_id, 0) + quantity
            for offer_id, quantity in demand.items():
                offer = seller.offers[offer_id]
                available = self.listing_quantity(seller, offer)
                if quantity > available and not allow_oversell:
                    raise ApiError(
                        409, {"error": f"out of stock: offer {offer_id} has {available}"}
                    )
            now = self.clock()
            order_lines = []
            for offer, quantity, raw in wanted:
                if offer is None:
                    legacy_id = str(raw["legacyItemId"])
                    order_lines.append(
                        LineItem(
                            line_item_id=self._line_item_id(),
                            legacy_item_id=legacy_id,
                            title=seller.legacy_listings[legacy_id],
                            quantity=quantity,
                            unit_price=LEGACY_PRICE,
                            currency="USD",
                        )
                    )
                    continue
                self._take(seller, offer, quantity)
                item = seller.items.get(offer.sku)
                title = (item.record.get("product") or {}).get("title") if item else None
                order_lines.append(
                    LineItem(
                        line_item_id=self._line_item_id(),
                        legacy_item_id=offer.listing_id or "",
                        title=str(title or offer.sku),
                        quantity=quantity,
                        unit_price=offer.price,
                        currency=offer.currency,
                        sku=offer.sku,
                        offer_id=offer.offer_id,
                        legacy_variation_id=offer.legacy_variation_id,
                        sold_format=offer.format,
                        marketplace_id=offer.marketplace_id,
                    )
                )
            digits = f"{12_345_600_000 + self.id_next():012d}"
            order = Order(
                order_id=f"{digits[:2]}-{digits[2:7]}-{digits[7:]}",
                created=created or now,
                modified=now,
                lines=order_lines,
                buyer=buyer or f"buyer_{self.random.randint(1000, 9999)}",
            )
            seller.orders[order.order_id] = order
            return order

    def order(self, username: str, order_id: str) -> Order:
        try:
            return self.seller(username).orders[order_id]
        except KeyError:
            raise ApiError(404, {"error": f"no order {order_id}"}) from None

    def orders_view(self, username: str) -> list[dict[str, Any]]:
        with self.lock:
            return [order_view(order) for order in self.seller(username).orders.values()]

    def order_cancel_request(self, username: str, order_id: str, *, reason: str) -> Order:
        """The buyer asks to cancel: cancelState IN_PROGRESS, nothing comes back yet."""
        with self.lock:
            order = self.order(username, order_id)
            if order.cancel_state != NONE_REQUESTED or order.fulfillment_status == FULFILLED:
                raise ApiError(409, {"error": f"order {order_id} cannot be asked to cancel"})
            now = self.clock()
            order.cancel_requests.append(
                {
                    "cancelInitiator": "Buyer",
                    "cancelReason": reason,
                    "cancelRequestId": str(5_000_000_000 + self.id_next()),
                    "cancelRequestState": "REQUESTED",
                    "cancelRequestedDate": ebay_datetime(now),
                }
            )
            order.cancel_state = IN_PROGRESS
            order.modified = now
            return order

    def order_cancel(
        self, username: str, order_id: str, *, initiator: str = "Seller", reason: str = ""
    ) -> Order:
        """Cancel an order (completing a buyer's request if there is one): stock comes back."""
        with self.lock:
            seller = self.seller(username)
            order = self.order(username, order_id)
            if order.cancel_state == CANCELED:
                raise ApiError(409, {"error": f"order {order_id} is already cancelled"})
            if order.fulfillment_status != NOT_STARTED:
                raise ApiError(409, {"error": f"order {order_id} has shipped"})
            now = self.clock()
            for line in order.lines:
                self._give_back(seller, line, line.quantity)
            pending = [r for r in order.cancel_requests if r["cancelRequestState"] == "REQUESTED"]
            if pending:
                pending[-1]["cancelRequestState"] = "COMPLETED"
                pending[-1]["cancelCompletedDate"] = ebay_datetime(now)
            else:
                order.cancel_requests.append(
                    {
                        "cancelCompletedDate": ebay_datetime(now),
                        "cancelInitiator": initiator,
                        "cancelReason": reason or "OUT_OF_STOCK_OR_CANNOT_FULFILL",
                        "cancelRequestId": str(5_000_000_000 + self.id_next()),
                        "cancelRequestState": "COMPLETED",
                        "cancelRequestedDate": ebay_datetime(now),
                    }
                )
            order.cancel_state = CANCELED
            order.cancelled_at = now
            order.payment_status = "FULLY_REFUNDED"
            order.modified = now
            return order

    def order_ship(
        self, username: str, order_id: str, line_item_ids: list[str] | None = None
    ) -> Order:
        """The seller ships some lines (IN_PROGRESS) or all of them (FULFILLED)."""
        with self.lock:
            order = self.order(username, order_id)
            if order.cancel_state == CANCELED:
                raise ApiError(409, {"error": f"order {order_id} is cancelled"})
            wanted = set(line_item_ids or [line.line_item_id for line in order.lines])
            unknown = wanted - {line.line_item_id for line in order.lines}
            if unknown:
                raise ApiError(400, {"error": f"no line items {sorted(unknown)}"})
            for line in order.lines:
                if line.line_item_id in wanted:
                    line.fulfillment_status = FULFILLED
            done = all(line.fulfillment_status == FULFILLED for line in order.lines)
            order.fulfillment_status = FULFILLED if done else IN_PROGRESS
            order.modified = self.clock()
            return order

    def order_change(
        self,
        username: str,
        order_id: str,
        *,
        quantity: int,
        line_item_id: str | None = None,
        index: int | None = None,
        allow_oversell: bool = False,
    ) -> Order:
        """Change one line's quantity: stock moves by the difference."""
        with self.lock:
            seller = self.seller(username)
            order = self.order(username, order_id)
            if order.cancel_state == CANCELED or order.fulfillment_status == FULFILLED:
                raise ApiError(409, {"error": f"order {order_id} cannot change"})
            if quantity < 1:
                raise ApiError(400, {"error": "quantity must be at least 1 (cancel instead)"})
            try:
                line = (
                    next(x for x in order.lines if x.line_item_id == line_item_id)
                    if line_item_id is not None
                    else order.lines[index or 0]
                )
            except (StopIteration, IndexError):
                raise ApiError(400, {"error": "no such line"}) from None
            delta = quantity - line.quantity
            offer = seller.offers.get(line.offer_id or "")
            if delta > 0 and offer is not None:
                available = self.listing_quantity(seller, offer)
                if delta > available and not allow_oversell:
                    raise ApiError(
                        409, {"error": f"out of stock: {offer.offer_id} has {available}"}
                    )
                self._take(seller, offer, delta)
            elif delta < 0:
                self._give_back(seller, line, -delta)
            line.quantity = quantity
            order.modified = self.clock()
            return order

    def generate(self, count: int) -> list[Order]:
        """Buyers at work: `count` orders of one or two units from live listings (now and
        then of a listing without SKU), and some older orders shipped or cancelled."""
        placed = []
        with self.lock:
            for _ in range(count):
                choices: list[tuple[Seller, dict[str, Any]]] = [
                    (seller, {"offerId": offer.offer_id})
                    for seller in self.sellers.values()
                    for offer in seller.offers.values()
                    if offer.status == PUBLISHED
                    and offer.listing_status == ACTIVE
                    and self.listing_quantity(seller, offer) > 0
                ]
                legacy = [
                    (seller, {"legacyItemId": legacy_id})
                    for seller in self.sellers.values()
                    for legacy_id in seller.legacy_listings
                ]
                if legacy and (not choices or self.random.random() < 0.05):
                    choices = legacy
                if not choices:
                    break
                seller, line = self.random.choice(choices)
                offer = seller.offers.get(line.get("offerId", ""))
                most = self.listing_quantity(seller, offer) if offer else 2
                line["quantity"] = min(most, self.random.choice((1, 1, 1, 2)))
                placed.append(self.order_place(seller.username, [line]))
            new = {order.order_id for order in placed}
            for seller in self.sellers.values():
                for order in list(seller.orders.values()):
                    if order.order_id in new or order.cancel_state != NONE_REQUESTED:
                        continue
                    if order.fulfillment_status != NOT_STARTED:
                        continue
                    roll = self.random.random()
                    if roll < 0.03:
                        self.order_cancel(seller.username, order.order_id, initiator="Buyer")
                    elif roll < 0.12:
                        self.order_ship(seller.username, order.order_id)
        return placed

    # --- the API ------------------------------------------------------------------------------

    def _line_json(self, line: LineItem, order: Order) -> dict[str, Any]:
        cost = Decimal(line.unit_price) * line.quantity

        def amount(value: Decimal) -> dict[str, str]:
            return {"value": f"{value:.2f}", "currency": line.currency}

        answer: dict[str, Any] = {
            "lineItemId": line.line_item_id,
            "legacyItemId": line.legacy_item_id,
        }
        if line.legacy_variation_id:
            answer["legacyVariationId"] = line.legacy_variation_id
        if line.sku is not None:
            answer["sku"] = line.sku
        answer.update(
            {
                "title": line.title,
                "lineItemCost": amount(cost),
                "quantity": line.quantity,
                "soldFormat": line.sold_format,
                "listingMarketplaceId": line.marketplace_id,
                "purchaseMarketplaceId": line.marketplace_id,
                "lineItemFulfillmentStatus": line.fulfillment_status,
                "total": amount(cost),
                "deliveryCost": {"shippingCost": amount(Decimal(0))},
                "appliedPromotions": [],
                "taxes": [],
                "properties": {"buyerProtection": True},
                "lineItemFulfillmentInstructions": {
                    "minEstimatedDeliveryDate": ebay_datetime(order.created + dt.timedelta(3)),
                    "maxEstimatedDeliveryDate": ebay_datetime(order.created + dt.timedelta(7)),
                    "shipByDate": ebay_datetime(order.created + dt.timedelta(2)),
                    "guaranteedDelivery": False,
                },
                "refunds": [],
            }
        )
        return answer

    def order_json(self, seller: Seller, order: Order, *, detail: bool) -> dict[str, Any]:
        """An order in getOrder's shape (`detail`: with its cancel requests) or getOrders'."""
        currency = order.lines[0].currency if order.lines else "USD"
        subtotal = sum((Decimal(x.unit_price) * x.quantity for x in order.lines), Decimal(0))
        fee = (subtotal * FEE_RATE).quantize(Decimal("0.01"))

        def amount(value: Decimal) -> dict[str, str]:
            return {"value": f"{value:.2f}", "currency": currency}

        cancel: dict[str, Any] = {"cancelState": order.cancel_state}
        if order.cancelled_at is not None:
            cancel["cancelledDate"] = ebay_datetime(order.cancelled_at)
        cancel["cancelRequests"] = [dict(r) for r in order.cancel_requests] if detail else []
        refunds = []
        if order.cancel_state == CANCELED and order.cancelled_at is not None:
            refunds.append(
                {
                    "refundId": f"5{order.order_id.replace('-', '')}",
                    "refundDate": ebay_datetime(order.cancelled_at),
                    "amount": amount(subtotal),
                    "refundStatus": "REFUNDED",
                }
            )
        created = ebay_datetime(order.created)
        answer: dict[str, Any] = {
            "orderId": order.order_id,
            "legacyOrderId": order.order_id,
            "creationDate": created,
            "lastModifiedDate": ebay_datetime(order.modified),
            "orderFulfillmentStatus": order.fulfillment_status,
            "orderPaymentStatus": order.payment_status,
            "sellerId": seller.username,
            "buyer": {
                "username": order.buyer,
                "taxAddress": {"stateOrProvince": "CA", "postalCode": "95125", "countryCode": "US"},
            },
            "pricingSummary": {
                "priceSubtotal": amount(subtotal),
                "deliveryCost": amount(Decimal(0)),
                "total": amount(subtotal),
            },
            "cancelStatus": cancel,
            "paymentSummary": {
                "totalDueSeller": amount(subtotal - fee),
                "refunds": refunds,
                "payments": [
                    {
                        "paymentMethod": "EBAY",
                        "paymentReferenceId": order.order_id.replace("-", ""),
                        "paymentDate": created,
                        "amount": amount(subtotal),
                        "paymentStatus": "PAID",
                    }
                ],
            },
            "fulfillmentStartInstructions": [
                {
                    "fulfillmentInstructionsType": "SHIP_TO",
                    "minEstimatedDeliveryDate": ebay_datetime(order.created + dt.timedelta(3)),
                    "maxEstimatedDeliveryDate": ebay_datetime(order.created + dt.timedelta(7)),
                    "ebaySupportedFulfillment": False,
                    "shippingStep": {
                        # Buyer details as eBay sends them; the app under test keeps none.
                        "shipTo": {
                            "fullName": "Sandbox Buyer",
                            "contactAddress": {
                                "addressLine1": "2145 Hamilton Ave",
                                "city": "San Jose",
                                "stateOrProvince": "CA",
                                "postalCode": "95125",
                                "countryCode": "US",
                            },
                            "primaryPhone": {"phoneNumber": "4085550100"},
                            "email": f"{order.buyer}@members.ebay.com",
                        },
                        "shippingCarrierCode": "USPS",
                        "shippingServiceCode": "USPSPriority",
                    },
                }
            ],
            "fulfillmentHrefs": [],
            "salesRecordReference": order.order_id[-5:],
            "totalFeeBasisAmount": amount(subtotal),
            "totalMarketplaceFee": amount(fee),
            "lineItems": [self._line_json(line, order) for line in order.lines],
        }
        if order.fulfillment_status != NOT_STARTED:
            answer["fulfillmentHrefs"] = [
                f"/sell/fulfillment/v1/order/{order.order_id}/shipping_fulfillment/"
                f"{order.order_id.replace('-', '')}"
            ]
        return answer

    def order_get(self, seller: Seller, order_id: str, query: dict[str, str]) -> dict[str, Any]:
        """GET /order/{orderId}: the order with its cancel requests; unknown is 404 32100."""
        self._field_groups_check(query)
        with self.lock:
            order = seller.orders.get(order_id)
            if order is None:
                raise fulfillment_error(
                    404, 32100, f"Invalid order ID: {order_id}", {"orderId": order_id}
                )
            return self.order_json(seller, order, detail=True)

    @staticmethod
    def _field_groups_check(query: dict[str, str]) -> None:
        groups = query.get("fieldGroups")
        if groups is not None and groups != "TAX_BREAKDOWN":
            raise fulfillment_error(
                400, 32800, f"Invalid field group: {groups}", {"fieldGroup": groups}
            )

    def order_search(self, seller: Seller, query: dict[str, str], url: str) -> dict[str, Any]:
        """GET /order: by `orderIds` (up to 50; every other parameter ignored), else by
        `filter`, paged by `limit` (1-200, 50) and `offset` (records to skip); without a date
        criterion only orders created in the last 90 days."""
        self._field_groups_check(query)
        now = self.clock()
        oldest = now - TWO_YEARS
        if "orderIds" in query:
            ids = [i.strip() for i in query["orderIds"].split(",") if i.strip()]
            if len(ids) > ORDER_IDS_MAX:
                raise fulfillment_error(
                    400,
                    30900,
                    "Exceeded maximum number of order IDs (the current limit is 50)",
                )
            with self.lock:
                found = [
                    seller.orders[i]
                    for i in dict.fromkeys(ids)
                    if i in seller.orders and seller.orders[i].created >= oldest
                ]
                answer: dict[str, Any] = {
                    "href": f"{url}?orderIds={','.join(ids)}",
                    "total": len(found),
                    "limit": ORDERS_LIMIT_DEFAULT,
                    "offset": 0,
                    "orders": [self.order_json(seller, o, detail=False) for o in found],
                }
                missing = [i for i in dict.fromkeys(ids) if i not in {o.order_id for o in found}]
                if missing:
                    answer["warnings"] = [
                        error_entry(
                            32100,
                            FULFILLMENT,
                            REQUEST,
                            f"Invalid order ID: {order_id}",
                            None,
                            {"orderId": order_id},
                        )
                        for order_id in missing
                    ]
                return answer
        criteria = filter_parse(query.get("filter", ""), now)
        raw_limit = query.get("limit", str(ORDERS_LIMIT_DEFAULT))
        raw_offset = query.get("offset", "0")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= ORDERS_LIMIT_MAX:
            raise fulfillment_error(
                400, 31100, f"Invalid limit: {raw_limit}", {"limitvalue": raw_limit}
            )
        if not raw_offset.isdigit():
            raise fulfillment_error(
                400, 31000, f"Invalid offset: {raw_offset}", {"offsetvalue": raw_offset}
            )
        limit, offset = int(raw_limit), int(raw_offset)
        # eBay: with both dates, only creationdate counts.
        by_created = criteria.get("creationdate")
        by_modified = None if by_created else criteria.get("lastmodifieddate")
        statuses = criteria.get("orderfulfillmentstatus")
        if by_created is None and by_modified is None:
            oldest = now - dt.timedelta(days=self.order_window_days)
        with self.lock:
            orders = [
                order
                for order in seller.orders.values()
                if order.created >= oldest
                and (by_created is None or by_created[0] <= order.created <= by_created[1])
                and (by_modified is None or by_modified[0] <= order.modified <= by_modified[1])
                and (statuses is None or order.fulfillment_status in statuses)
            ]
            orders.sort(key=lambda o: (o.created, o.order_id), reverse=self.order_sort == "newest")
            total = len(orders)
            page = orders[offset : offset + limit]
            answer = {"href": page_url(url, query, limit, offset)}
            if offset + limit < total:
                answer["next"] = page_url(url, query, limit, offset + limit)
            if offset > 0:
                answer["prev"] = page_url(url, query, limit, max(offset - limit, 0))
            answer.update(
                {
                    "total": total,
                    "limit": limit,
                    "offset": offset,
                    "orders": [self.order_json(seller, o, detail=False) for o in page],
                }
            )
            return answer
