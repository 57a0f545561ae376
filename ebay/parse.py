"""eBay JSON -> dataclasses (the shapes of ../shared/platforms/EBAY.md).

KeyError/TypeError/ValueError raised here mean "not the documented shape": the client turns
them into EbayMalformed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from .errors import EbayErrorDetail
from .types import (
    EntryError,
    EntryResult,
    InventoryItem,
    LineItem,
    Offer,
    Order,
    Page,
    TokenGrant,
)

# Keys of a payload we keep (raw items and offers) that hold money: removed, whatever depth.
MONEY_KEY = re.compile(r"pric|cost|fee|amount|tax", re.IGNORECASE)


def ebay_datetime(value: dt.datetime) -> str:
    """``2026-03-01T00:00:00.000Z``: UTC with milliseconds, the form eBay's filters take."""
    if value.tzinfo is None:
        raise ValueError("eBay datetimes must be timezone-aware")
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise TypeError(f"datetime expected, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"string expected, got {type(value).__name__}")


def whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"whole number expected, got {type(value).__name__}")
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def without_money(value: Any) -> Any:
    """A copy of a payload without any price, cost, fee, amount or tax field."""
    if isinstance(value, Mapping):
        return {k: without_money(v) for k, v in value.items() if not MONEY_KEY.search(str(k))}
    if isinstance(value, list):
        return [without_money(v) for v in value]
    return value


def error_details(body: Any) -> list[EbayErrorDetail]:
    """``{"errors": [{"errorId", "message", "longMessage"}]}`` or OAuth's ``{"error",
    "error_description"}``; anything else gives none."""
    if not isinstance(body, Mapping):
        return []
    if isinstance(body.get("error"), str):
        return [EbayErrorDetail(body["error"], str(body.get("error_description") or ""))]
    found = []
    for error in body.get("errors") or []:
        if isinstance(error, Mapping):
            found.append(
                EbayErrorDetail(
                    str(error.get("errorId", "")),
                    str(error.get("message") or error.get("longMessage") or ""),
                )
            )
    return found


def token(body: Mapping[str, Any]) -> TokenGrant:
    access = body["access_token"]
    if not isinstance(access, str) or not access:
        raise ValueError("no access_token")
    refresh = body.get("refresh_token") or ""
    if not isinstance(refresh, str):
        raise TypeError("refresh_token is not a string")
    refresh_in = body.get("refresh_token_expires_in")
    return TokenGrant(
        access_token=access,
        expires_in=whole(body["expires_in"]),
        refresh_token=refresh,
        refresh_expires_in=None if refresh_in is None else whole(refresh_in),
    )


def _aspects(value: Any) -> dict[str, tuple[str, ...]]:
    aspects: dict[str, tuple[str, ...]] = {}
    for name, values in (value or {}).items():
        listed = values if isinstance(values, list) else [values]
        aspects[str(name)] = tuple(text(v) for v in listed)
    return aspects


def inventory_item(raw: Mapping[str, Any]) -> InventoryItem:
    product = raw.get("product") or {}
    availability = (raw.get("availability") or {}).get("shipToLocationAvailability") or {}
    quantity = availability.get("quantity")
    return InventoryItem(
        sku=text(raw["sku"]),
        title=text(product.get("title")),
        condition=text(raw.get("condition")),
        quantity=None if quantity is None else whole(quantity),
        aspects=_aspects(product.get("aspects")),
        image_count=len(product.get("imageUrls") or []),
        raw=without_money(raw),
    )


def page(body: Mapping[str, Any], key: str, reader: Any) -> Page:
    entries = body.get(key)
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise TypeError(f"{key} is not a list")
    total = body.get("total")
    next_url = body.get("next") or None
    if next_url is not None and not isinstance(next_url, str):
        raise TypeError("next is not a link")
    return Page(
        entries=tuple(reader(entry) for entry in entries),
        total=None if total is None else whole(total),
        next_url=next_url,
    )


def offer(raw: Mapping[str, Any]) -> Offer:
    listing = raw.get("listing") or {}
    quantity = raw.get("availableQuantity")
    return Offer(
        offer_id=text(raw["offerId"]),
        sku=text(raw["sku"]),
        marketplace_id=text(raw.get("marketplaceId")),
        format=text(raw.get("format")),
        available_quantity=None if quantity is None else whole(quantity),
        status=text(raw.get("status")),
        listing_id=text(listing.get("listingId")),
        listing_status=text(listing.get("listingStatus")),
        merchant_location_key=text(raw.get("merchantLocationKey")),
        category_id=text(raw.get("categoryId")),
        raw=without_money(raw),
    )


def bulk_update(body: Mapping[str, Any]) -> list[EntryResult]:
    """The per-entry answers of bulkUpdatePriceQuantity (200 or 207)."""
    responses = body["responses"]
    if not isinstance(responses, list):
        raise TypeError("responses is not a list")
    results = []
    for entry in responses:
        status = entry["statusCode"]
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError("statusCode is not a number")
        errors = []
        for error in entry.get("errors") or []:
            errors.append(
                EntryError(
                    whole(error["errorId"]),
                    text(error.get("longMessage") or error.get("message")),
                )
            )
        results.append(
            EntryResult(
                sku=text(entry.get("sku")),
                offer_id=text(entry.get("offerId")),
                status_code=status,
                errors=tuple(errors),
            )
        )
    return results


def order(raw: Mapping[str, Any]) -> Order:
    cancel = raw.get("cancelStatus") or {}
    lines = []
    for line in raw.get("lineItems") or []:
        lines.append(
            LineItem(
                line_item_id=text(line["lineItemId"]),
                sku=text(line.get("sku")),
                quantity=whole(line["quantity"]),
                legacy_item_id=text(line.get("legacyItemId")),
                legacy_variation_id=text(line.get("legacyVariationId")),
                title=text(line.get("title"))[:200],
            )
        )
    return Order(
        order_id=text(raw["orderId"]),
        created=parse_datetime(raw.get("creationDate")),
        last_modified=parse_datetime(raw.get("lastModifiedDate")),
        fulfillment_status=text(raw.get("orderFulfillmentStatus")),
        payment_status=text(raw.get("orderPaymentStatus")),
        cancel_state=text(cancel.get("cancelState")) or "NONE_REQUESTED",
        lines=tuple(lines),
    )
