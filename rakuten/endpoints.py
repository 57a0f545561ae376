"""The RMS calls the app makes, named once for the client, the sandbox and the settings."""

from __future__ import annotations

from typing import NamedTuple


class Endpoint(NamedTuple):
    method: str
    path: str


VARIANT_PATH = "/es/2.0/inventories/manage-numbers/{manage_number}/variants/{variant_id}"

ENDPOINTS: dict[str, Endpoint] = {
    "order.search": Endpoint("POST", "/es/2.0/order/searchOrder/"),
    "order.get": Endpoint("POST", "/es/2.0/order/getOrder/"),
    "order.confirm": Endpoint("POST", "/es/2.0/order/confirmOrder/"),
    "inventory.variant.get": Endpoint("GET", VARIANT_PATH),
    "inventory.variant.upsert": Endpoint("PUT", VARIANT_PATH),
    "inventory.bulk_get": Endpoint("POST", "/es/2.0/inventories/bulk-get"),
    "inventory.bulk_upsert": Endpoint("POST", "/es/2.0/inventories/bulk-upsert"),
    "items.search": Endpoint("GET", "/es/2.0/items/search"),
    "license.expiry": Endpoint("GET", "/es/1.0/license-management/license-key/expiry-date"),
}

# Requests per second per shop (rakuten/RMS.md). The order API has no published
# figure; public clients keep to 1/s. Override any of them with RAKUTEN_RATE_LIMITS.
DEFAULT_RATE_LIMITS: dict[str, float] = {
    "order.search": 1,
    "order.get": 1,
    "order.confirm": 1,
    "inventory.variant.get": 1,
    "inventory.variant.upsert": 1,
    "inventory.bulk_get": 5,
    "inventory.bulk_upsert": 1,
    "items.search": 5,
    "license.expiry": 1,
}

# The only Content-Type RMS accepts on a body: no space before charset (else 415 ES04-03).
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
# Public sources disagree: a team calling the live API had the form with a space refused
# (415 ES04-03), while two public RMS clients send exactly that. The client sends the form
# above and, on 415 ES04-03, once the other; it keeps the one RMS took per shop.
JSON_CONTENT_TYPE_SPACED = "application/json; charset=utf-8"
