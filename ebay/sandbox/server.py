"""HTTP for the eBay sandbox: eBay's routes and its part of the control API.

The kit (`sync.sandbox.server`) serves on loopback only, parses and answers; the control API
under /_sandbox/ has no authentication. Besides the kit's routes (health, state, reset, save,
rate-limits, faults, calls) it serves:

    GET  config                          PUT config {"revisionBudget": 3, "offsetMode": ...}
    GET  apps                            POST apps {"clientId", "clientSecret", "ruName",
         "acceptUrl", "declineUrl", "name", "scopes"}
    GET  sellers                         POST sellers {"username", "marketplaces", "items":
         [...], "legacyListings": {legacyItemId: title}}
    POST sellers/{seller}/items {"sku", "locale", "title" | "product", "condition",
         "quantity", "offers": [{"offerId", "format", "availableQuantity", "price",
         "currency", "status", "listingId", "listingStatus", "legacyVariationId",
         "marketplaceId"}]}
    GET  sellers/{seller}/items/{sku}    (the record as getInventoryItem answers it)
    POST sellers/{seller}/offers {"sku", ...as above}
    GET  sellers/{seller}/stock          PUT sellers/{seller}/stock {"sku", "quantity",
         "offers": {offerId: n}}          GET sellers/{seller}/stock/{sku}
         (per SKU: quantity, each offer's availableQuantity, listing quantity and status,
         soldQuantity, revisions today)
    POST sellers/{seller}/stock-faults {"sku": "*", "count"}  (bulk update entries -> 25001)
    GET  sellers/{seller}/orders         POST sellers/{seller}/orders {"lines": [{"offerId" |
         "sku" | "legacyItemId" (+ "title": a listing without SKU), "quantity"}],
         "allowOversell", "creationDate", "buyer"}
    GET  sellers/{seller}/orders/{orderId}
    POST sellers/{seller}/orders/{orderId}/cancel {"initiator", "reason"}
    POST sellers/{seller}/orders/{orderId}/cancel-request {"reason"}
    POST sellers/{seller}/orders/{orderId}/ship {"lineItemIds": optional}
    POST sellers/{seller}/orders/{orderId}/lines {"lineItemId" | "index", "quantity",
         "allowOversell"}
    POST generate {"count"}
    POST tokens {"clientId", "seller", "scopes"}  (a consent without the browser)
    POST tokens/expire {"seller": optional}       POST tokens/revoke {"refreshToken" | "seller"}
    PUT  token-lifetime {"seconds"}
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sync.sandbox.errors import ApiError
from sync.sandbox.server import LoopbackServer, SandboxHandler, route

from .auth import Session
from .errors import (
    ACCESS,
    LONG_INVALID_REQUEST,
    REQUEST,
    Page,
    Redirect,
    error_entry,
    internal_error,
    invalid_request,
    resource_not_found,
    sell_error,
)
from .model import Seller, Visitor
from .orders import order_view
from .state import ENDPOINTS, Sandbox

__all__ = ["ROUTES", "Handler", "Sandbox", "SandboxServer"]

ROUTES = [route(name, endpoint.method, endpoint.path) for name, endpoint in ENDPOINTS.items()]
CONSENT_PATH = ENDPOINTS["consent.page"].path
TOKEN_PATH = ENDPOINTS["token"].path
FORM_ENDPOINTS = frozenset({"token", "consent.submit"})
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class Handler(SandboxHandler):
    """eBay on the kit's handler: its paths, three kinds of caller (a browser on the consent
    page, an app on the token endpoint, a seller's token on the Sell APIs), HTML and
    redirects beside JSON, and its control routes."""

    server: SandboxServer
    routes = ROUTES
    logger = logging.getLogger("ebay.sandbox")
    server_version = "eBay-Sandbox"
    session: Session | None = None
    seller_in_call: Seller | None = None

    def respond(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """JSON as the kit answers it, or the consent's HTML page or redirect."""
        if isinstance(body, Redirect):
            self.content_type = "text/html; charset=utf-8"
            super().respond(status, b"", {**(headers or {}), "Location": body.location})
            return
        if isinstance(body, Page):
            self.content_type = "text/html; charset=utf-8"
            super().respond(status, body.html.encode(), headers)
            return
        self.content_type = JSON_CONTENT_TYPE
        super().respond(status, body, headers)

    def route_error(self, path: str, path_matched: bool) -> ApiError:
        if path_matched:
            entry = error_entry(
                2004, ACCESS, REQUEST, "Invalid request", f"{LONG_INVALID_REQUEST} (method)"
            )
            return sell_error(405, entry)
        return resource_not_found()

    def authenticate(self) -> Any:
        sandbox = self.server.sandbox
        self.session = self.seller_in_call = None
        url = urlsplit(self.path)
        if url.path == CONSENT_PATH:
            return Visitor(dict(parse_qsl(url.query)).get("client_id", ""))
        if url.path == TOKEN_PATH:
            return sandbox.client_authenticate(self.headers.get("Authorization"))
        self.session = sandbox.bearer_authenticate(self.headers.get("Authorization"))
        return self.session

    def body_parse(self, endpoint: str, method: str, raw: bytes) -> Any:
        """The scope check first (403 before the body is read), then the body: a form for
        OAuth, JSON for the Sell APIs (of Content-Type application/json)."""
        sandbox = self.server.sandbox
        scopes = ENDPOINTS[endpoint].scopes
        if scopes and self.session is not None:
            self.seller_in_call = sandbox.scope_check(self.session, scopes)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if endpoint in FORM_ENDPOINTS:
            if content_type != FORM_CONTENT_TYPE:
                return {}  # eBay reads no grant_type (or decision) from anything else
            try:
                return dict(parse_qsl(raw.decode()))
            except UnicodeDecodeError:
                return {}
        if method not in ("POST", "PUT"):
            return None
        if content_type != JSON_CONTENT_TYPE:
            if sandbox.content_type_error == "415":
                entry = error_entry(
                    2004,
                    ACCESS,
                    REQUEST,
                    "Invalid request",
                    LONG_INVALID_REQUEST,
                    {"reason": "Unsupported Media Type"},
                )
                raise sell_error(415, entry)
            raise internal_error(500)
        if not raw:
            raise invalid_request("Could not read the request body: it is empty")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid_request("Could not read the request body: it is not JSON") from None

    def base_url(self) -> str:
        """Where links (`href`, `next`) point: the host the client reached."""
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.server.url

    def call(
        self, endpoint: str, shop: Any, args: tuple[str, ...], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        sandbox = self.server.sandbox
        seller = self.seller_in_call
        url = self.base_url() + urlsplit(self.path).path
        match endpoint:
            case "consent.page":
                return 200, sandbox.consent_page(query, self.path)
            case "consent.submit":
                return 302, sandbox.consent_submit(query, body)
            case "token":
                return 200, sandbox.token_issue(shop, body)
        assert seller is not None  # body_parse checked the scope of every Sell API call
        match endpoint:
            case "inventory.list":
                return 200, sandbox.inventory_list(seller, query, url)
            case "inventory.get":
                return 200, sandbox.inventory_get(seller, args[0])
            case "inventory.replace":
                language = self.headers.get("Content-Language")
                return sandbox.inventory_replace(seller, args[0], body, language), None
            case "inventory.bulk_get":
                return sandbox.inventory_bulk_get(seller, body)
            case "offer.list":
                return 200, sandbox.offer_list(seller, query, url)
            case "stock.bulk_update":
                return sandbox.stock_bulk_update(seller, body)
            case "order.search":
                return 200, sandbox.order_search(seller, query, url)
        return 200, sandbox.order_get(seller, args[0], query)

    def control(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any] | None:
        sandbox = self.server.sandbox
        parts = [unquote(part) for part in parts]
        match (method, *parts):
            case ("GET", "config"):
                return 200, sandbox.config()
            case ("PUT", "config"):
                return 200, sandbox.config_set(body)
            case ("PUT", "token-lifetime"):
                return 200, sandbox.config_set({"tokenLifetime": int(body["seconds"])})
            case ("GET", "apps"):
                with sandbox.lock:
                    return 200, {"apps": sorted(sandbox.apps)}
            case ("POST", "apps"):
                app = sandbox.app_add(
                    client_id=body["clientId"],
                    client_secret=body["clientSecret"],
                    ru_name=body["ruName"],
                    accept_url=body["acceptUrl"],
                    decline_url=body.get("declineUrl"),
                    name=body.get("name", ""),
                    scopes=body.get("scopes"),
                )
                return 201, {"clientId": app.client_id, "ruName": app.ru_name}
            case ("GET", "sellers"):
                with sandbox.lock:
                    return 200, {"sellers": sorted(sandbox.sellers)}
            case ("POST", "sellers"):
                seller = sandbox.seller_add(
                    username=body["username"],
                    marketplaces=body.get("marketplaces"),
                    items=body.get("items", []),
                    legacy_listings=body.get("legacyListings"),
                )
                return 201, {"username": seller.username, "items": sorted(seller.items)}
            case ("POST", "sellers", username, "items"):
                item = sandbox.item_add(username, body)
                offers = sandbox.seller(username).offers_of(item.sku)
                return 201, {"sku": item.sku, "offers": [o.offer_id for o in offers]}
            case ("GET", "sellers", username, "items", sku):
                return 200, sandbox.inventory_get(sandbox.seller(username), sku)
            case ("POST", "sellers", username, "offers"):
                offer = sandbox.offer_add(username, body)
                return 201, {"offerId": offer.offer_id, "listingId": offer.listing_id}
            case ("GET", "sellers", username, "stock"):
                return 200, {"stock": sandbox.stock_rows(username)}
            case ("PUT", "sellers", username, "stock"):
                return 200, sandbox.stock_set(username, body)
            case ("GET", "sellers", username, "stock", sku):
                return 200, sandbox.stock_of(username, sku)
            case ("POST", "sellers", username, "stock-faults"):
                fault = sandbox.stock_fault_add(
                    username, str(body.get("sku", "*")), int(body.get("count", 1))
                )
                return 201, fault
            case ("GET", "sellers", username, "orders"):
                return 200, {"orders": sandbox.orders_view(username)}
            case ("POST", "sellers", username, "orders"):
                order = sandbox.order_place(
                    username,
                    body["lines"],
                    allow_oversell=bool(body.get("allowOversell", False)),
                    created=_when(body.get("creationDate")),
                    buyer=body.get("buyer"),
                )
                return 201, order_view(order)
            case ("GET", "sellers", username, "orders", order_id):
                with sandbox.lock:
                    return 200, order_view(sandbox.order(username, order_id))
            case ("POST", "sellers", username, "orders", order_id, "cancel"):
                order = sandbox.order_cancel(
                    username,
                    order_id,
                    initiator=str(body.get("initiator", "Seller")),
                    reason=str(body.get("reason", "")),
                )
                return 200, order_view(order)
            case ("POST", "sellers", username, "orders", order_id, "cancel-request"):
                order = sandbox.order_cancel_request(
                    username, order_id, reason=str(body.get("reason", "ORDER_MISTAKE"))
                )
                return 200, order_view(order)
            case ("POST", "sellers", username, "orders", order_id, "ship"):
                order = sandbox.order_ship(username, order_id, body.get("lineItemIds"))
                return 200, order_view(order)
            case ("POST", "sellers", username, "orders", order_id, "lines"):
                order = sandbox.order_change(
                    username,
                    order_id,
                    quantity=int(body["quantity"]),
                    line_item_id=body.get("lineItemId"),
                    index=int(body["index"]) if body.get("index") is not None else None,
                    allow_oversell=bool(body.get("allowOversell", False)),
                )
                return 200, order_view(order)
            case ("POST", "generate"):
                placed = sandbox.generate(int(body.get("count", 1)))
                return 200, {"orders": [order.order_id for order in placed]}
            case ("POST", "tokens"):
                grant = sandbox.grant_mint(body["clientId"], body["seller"], body.get("scopes"))
                return 201, grant
            case ("POST", "tokens", "expire"):
                return 200, {"expired": sandbox.tokens_expire(body.get("seller"))}
            case ("POST", "tokens", "revoke"):
                revoked = sandbox.tokens_revoke(
                    refresh_token=body.get("refreshToken"), seller=body.get("seller")
                )
                return 200, {"revoked": revoked}
        return None


class SandboxServer(LoopbackServer):
    """The eBay sandbox on loopback: `SandboxServer(Sandbox()).start()` in tests."""

    sandbox: Sandbox
    handler_class = Handler
    thread_name = "ebay-sandbox"
