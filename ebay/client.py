"""The one module that speaks HTTP to eBay (Sell Inventory v1, Sell Fulfillment v1, OAuth).

`EbayClient.for_store(store)` builds a client from a store's decrypted credentials (the
merchant's own app: `client_id`, `client_secret`, `ru_name`) and its eBay connection (the
seller's refresh token, kept encrypted in `ebay.models.EbayConnection`); for the sandbox, the
`base_url` of its api_config serves the API, the token endpoint and the consent page.

Auth: the seller consents once in a browser (`authorize_url`, then `exchange_code` with the
code the callback brings). Every call then sends `Authorization: Bearer <access token>`; the
access token (about 2 h) is refreshed with the refresh token 5 minutes before it ends, and
once on a 401. A refused refresh token raises `EbayAuthError(reconnect=True)`: the seller
must consent again.

Each call is spaced by the per-seller, per-endpoint limiter, has a timeout, and is retried
on 429, 5xx, dropped connections and timeouts with exponential backoff (or Retry-After).
Stock is written as absolute quantities only (bulkUpdatePriceQuantity); the client has no
method for createOrReplaceInventoryItem, which replaces a whole item and would wipe it.

Neither the client secret, a token nor an authorization code is ever logged or put in a
message.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests

from sync.errors import connection_failure as _connection_failure
from sync.ratelimit import RateLimiter
from sync.ratelimit import limiter as process_limiter

from . import parse
from .errors import (
    EbayAuthError,
    EbayBadRequest,
    EbayBusy,
    EbayError,
    EbayErrorDetail,
    EbayMalformed,
    EbayNotFound,
    EbayRequestInvalid,
    EbayServerError,
    EbayTimeout,
)
from .types import (
    BULK_GET_MAX,
    BULK_UPDATE_MAX,
    INVENTORY_PAGE_MAX,
    ORDER_IDS_MAX,
    ORDERS_PAGE_MAX,
    QUANTITY_MAX,
    SCOPES,
    SKU_CHARS,
    SKU_MAX,
    EntryResult,
    InventoryItem,
    Offer,
    Order,
    Page,
    QuantityUpdate,
    TokenGrant,
)

if TYPE_CHECKING:
    from stores.models import Store

logger = logging.getLogger("ebay.client")

API_BASE = "https://api.ebay.com"
AUTH_BASE = "https://auth.ebay.com"


class Endpoint(NamedTuple):
    method: str
    path: str


ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("POST", "/identity/v1/oauth2/token"),
    "inventory.list": Endpoint("GET", "/sell/inventory/v1/inventory_item"),
    "inventory.get": Endpoint("GET", "/sell/inventory/v1/inventory_item/{sku}"),
    "inventory.bulk_get": Endpoint("POST", "/sell/inventory/v1/bulk_get_inventory_item"),
    "offer.list": Endpoint("GET", "/sell/inventory/v1/offer"),
    "stock.bulk_update": Endpoint("POST", "/sell/inventory/v1/bulk_update_price_quantity"),
    "order.search": Endpoint("GET", "/sell/fulfillment/v1/order"),
    "order.get": Endpoint("GET", "/sell/fulfillment/v1/order/{order_id}"),
}
# eBay publishes daily quotas (Inventory 2,000,000, Fulfillment 100,000 calls), no rate per
# second: these keep well inside them; EBAY_RATE_LIMITS overrides any of them.
DEFAULT_RATE_LIMITS: dict[str, float] = {
    "token": 1.0,
    "inventory.list": 10.0,
    "inventory.get": 10.0,
    "inventory.bulk_get": 10.0,
    "offer.list": 10.0,
    "stock.bulk_update": 10.0,
    "order.search": 1.0,
    "order.get": 1.0,
}
CREDENTIAL_KEYS = ("client_id", "client_secret", "ru_name")
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE = 1.0
RETRY_AFTER_MAX = 120.0
# An access token is refreshed this long before eBay says it ends.
TOKEN_MARGIN = 300.0
REFUSED_GRANTS = frozenset({"invalid_grant", "invalid_scope", "unauthorized_client"})

MSG_SKU_EMPTY = "The eBay SKU is empty."
MSG_SKU_LONG = "The eBay SKU “%s” is longer than 50 characters."
MSG_SKU_CHARS = "The eBay SKU “%s” may hold only letters, digits, “.”, “_” and “-”."
MSG_QUANTITY = "The quantity of “%s” must be a whole number from 0 to 2,147,483,647."
MSG_NO_REFRESH = "The store is not connected to an eBay account: connect it first."


def sku_problem(sku: Any) -> str | None:
    """Why eBay would refuse (or we would not risk) this SKU, or None."""
    if not isinstance(sku, str) or not sku:
        return MSG_SKU_EMPTY
    if len(sku) > SKU_MAX:
        return MSG_SKU_LONG % sku[:60]
    if not set(sku) <= SKU_CHARS:
        return MSG_SKU_CHARS % sku
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_MAX)
    except ValueError:
        return None


class EbayClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        ru_name: str,
        refresh_token: str = "",
        base_url: str | None = None,
        auth_url: str | None = None,
        scopes: Sequence[str] = SCOPES,
        marketplace_id: str = "EBAY_US",
        access_token: str = "",
        access_expires_at: dt.datetime | None = None,
        on_token: Callable[[str, dt.datetime], None] | None = None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        rate_per_second: float | Mapping[str, float] = DEFAULT_RATE_LIMITS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        limiter: RateLimiter | None = None,
        label: str = "",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        missing = [
            name
            for name, value in (
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("ru_name", ru_name),
            )
            if not value
        ]
        if missing:
            raise EbayRequestInvalid(f"Missing eBay app settings: {', '.join(missing)}.")
        self.base_url = (base_url or API_BASE).rstrip("/")
        # The sandbox serves the consent page beside the API; eBay serves it on auth.ebay.com.
        self.auth_url = (auth_url or base_url or AUTH_BASE).rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme.lower(), parts.netloc.lower())
        self.client_id = client_id
        self.ru_name = ru_name
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {basic}"
        self._refresh_token = refresh_token
        self.scopes = tuple(scopes)
        self.marketplace_id = marketplace_id
        self.account = hashlib.sha256(f"{self.base_url}|{client_id}|{label}".encode()).hexdigest()[
            :16
        ]
        self.label = label or self.account[:8]
        self.timeout = tuple(timeout) if isinstance(timeout, list | tuple) else timeout
        if isinstance(rate_per_second, Mapping):
            self.rate_limits = {**DEFAULT_RATE_LIMITS, **rate_per_second}
        else:
            self.rate_limits = dict.fromkeys(ENDPOINTS, float(rate_per_second))
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.limiter = limiter or process_limiter
        self._sleep = sleep
        self._clock = clock
        self._on_token = on_token
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._access_token = access_token
        self._access_expires = access_expires_at
        self.last_uncertain = False

    def __repr__(self) -> str:
        return f"<EbayClient {self.label}>"

    @classmethod
    def for_store(cls, store: Store, **overrides: Any) -> EbayClient:
        """The store's app keys and, when it is connected, its seller's tokens."""
        from django.conf import settings

        from .models import EbayConnection

        credentials = store.credentials()
        missing = [key for key in CREDENTIAL_KEYS if not credentials.get(key)]
        if missing:
            raise EbayRequestInvalid(
                f"Missing eBay app settings: {', '.join(missing)}.", endpoint=store.store_id
            )
        config = store.api_config or {}
        options: dict[str, Any] = {
            "base_url": config.get("base_url") or None,
            "auth_url": config.get("auth_url") or None,
            "marketplace_id": config.get("marketplace_id") or "EBAY_US",
            "timeout": getattr(settings, "EBAY_TIMEOUT", DEFAULT_TIMEOUT),
            "rate_per_second": getattr(settings, "EBAY_RATE_LIMITS", None) or DEFAULT_RATE_LIMITS,
            "max_retries": getattr(settings, "EBAY_MAX_RETRIES", DEFAULT_MAX_RETRIES),
            "backoff_base": getattr(settings, "EBAY_BACKOFF_BASE", DEFAULT_BACKOFF_BASE),
            "label": store.store_id,
        }
        connection = EbayConnection.objects.filter(store=store).first()
        if connection is not None:
            options.update(connection.client_options())
        options.update(overrides)
        return cls(**{key: credentials[key] for key in CREDENTIAL_KEYS}, **options)

    # --- consent and tokens -------------------------------------------------------------

    def authorize_url(self, state: str) -> str:
        """eBay's consent page for this app; the seller comes back to the RuName's accept
        URL with ``code`` and this ``state``."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.ru_name,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "state": state,
        }
        return f"{self.auth_url}/oauth2/authorize?{urlencode(query, quote_via=quote)}"

    def exchange_code(self, code: str) -> TokenGrant:
        """The authorization code -> the seller's access and refresh tokens (kept here)."""
        if not code:
            raise EbayAuthError("eBay sent no authorization code.", endpoint="token")
        grant = self._grant(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.ru_name}
        )
        if not grant.refresh_token:
            raise EbayMalformed("the token answer has no refresh token", endpoint="token")
        self._refresh_token = grant.refresh_token
        self._keep(grant)
        return grant

    def _grant(self, form: dict[str, str]) -> TokenGrant:
        response = self._send("token", form=form)
        return self._read("token", response, parse.token)

    def _keep(self, grant: TokenGrant) -> None:
        self._access_token = grant.access_token
        self._access_expires = self._clock() + dt.timedelta(seconds=grant.expires_in)
        if self._on_token is not None:
            self._on_token(grant.access_token, self._access_expires)

    def token(self, *, fresh: bool = False) -> str:
        """A valid access token, refreshed when there is none, it ends within 5 minutes, or
        ``fresh`` (the auth test: eBay must take the app keys and the refresh token now).

        EbayAuthError (``reconnect``) when eBay refuses the refresh token."""
        with self._token_lock:
            margin = dt.timedelta(seconds=TOKEN_MARGIN)
            if (
                not fresh
                and self._access_token
                and self._access_expires is not None
                and self._clock() + margin < self._access_expires
            ):
                return self._access_token
            if not self._refresh_token:
                raise EbayAuthError(MSG_NO_REFRESH, endpoint="token", reconnect=True)
            self._access_token = ""
            try:
                grant = self._grant(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": self._refresh_token,
                        "scope": " ".join(self.scopes),
                    }
                )
            except EbayAuthError as exc:
                codes = set(exc.codes)
                if codes & REFUSED_GRANTS:
                    raise EbayAuthError(
                        "eBay refused the seller's refresh token: connect the eBay account again",
                        endpoint="token",
                        status=exc.status,
                        details=exc.details,
                        reconnect=True,
                    ) from None
                raise
            self._keep(grant)
            return grant.access_token

    def _drop_token(self, stale: str) -> None:
        with self._token_lock:
            if self._access_token == stale:
                self._access_token = ""

    # --- transport ------------------------------------------------------------------------

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _url(
        self,
        endpoint: str,
        *,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> str:
        path = ENDPOINTS[endpoint].path
        if path_params:
            path = path.format(**{k: quote(v, safe="") for k, v in path_params.items()})
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        return url

    def _follow(self, endpoint: str, current: str, next_url: str | None, seen: set[str]) -> str:
        """The next page's address, only on eBay's own host, never a page read before."""
        url = urljoin(current, next_url or "")
        parts = urlsplit(url)
        if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
            raise EbayMalformed(
                "next points to another host than the API's; not followed", endpoint=endpoint
            )
        if url in seen:
            raise EbayMalformed("next repeats a page already read", endpoint=endpoint)
        seen.add(url)
        return url

    def _classify(self, endpoint: str, response: requests.Response) -> EbayError:
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        kwargs: dict[str, Any] = {
            "endpoint": endpoint,
            "status": status,
            "details": parse.error_details(body),
        }
        if status == 429:
            return EbayBusy(
                "rate limited",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        if status >= 500:
            return EbayServerError("eBay is unavailable", **kwargs)
        if status == 408:
            return EbayTimeout("eBay timed out the request", **kwargs)
        if status < 400:
            return EbayMalformed("answered with a redirect", **kwargs)
        if endpoint == "token" and status in (400, 401):
            return EbayAuthError("eBay refused the app keys or the seller's token", **kwargs)
        if status in (401, 403):
            return EbayAuthError(
                "eBay refused the access (token or scope): connect the eBay account again",
                **kwargs,
            )
        if status == 404:
            return EbayNotFound("not found", **kwargs)
        return EbayBadRequest("eBay refused the request", **kwargs)

    def _send(
        self,
        endpoint: str,
        *,
        url: str | None = None,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
    ) -> requests.Response:
        """One call with its retries (401: one new token, one more try)."""
        method = ENDPOINTS[endpoint].method
        url = url or self._url(endpoint, path_params=path_params, query=query)
        headers = {"Accept": "application/json"}
        data: bytes | str | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, ensure_ascii=False).encode()
        elif form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urlencode(form)
        bearer = endpoint != "token"
        if bearer:
            headers["X-EBAY-C-MARKETPLACE-ID"] = self.marketplace_id
        rate = self.rate_limits.get(endpoint, 1.0)
        attempt = 0
        refreshed = False
        self.last_uncertain = False
        while True:
            access_token = ""
            if bearer:
                access_token = self.token()
                headers["Authorization"] = f"Bearer {access_token}"
            else:
                headers["Authorization"] = self._basic
            error: EbayError
            slot = self.limiter.acquire(self.account, endpoint, rate)
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.Timeout:
                error = EbayTimeout("no answer in time", endpoint=endpoint)
                status_text = "timeout"
            except requests.RequestException as exc:
                error = EbayServerError(_connection_failure(exc, url), endpoint=endpoint)
                status_text = "connection-error"
            else:
                status_text = str(response.status_code)
            finally:
                self.limiter.release(self.account, endpoint, slot)
            self._log(endpoint, status_text, started, attempt)
            if status_text.isdigit():
                status = response.status_code
                if status < 300:
                    return response
                if status == 401 and bearer and not refreshed:
                    self._drop_token(access_token)
                    refreshed = True
                    continue
                error = self._classify(endpoint, response)
            if error.retryable and not isinstance(error, EbayBusy):
                self.last_uncertain = True  # a 429 applied nothing; a timeout or 5xx may have
            if not error.retryable or attempt >= self.max_retries:
                raise error
            delay = self.backoff_base * 2**attempt
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            self._sleep(delay)
            attempt += 1

    def _log(self, endpoint: str, status: str, started: float, attempt: int) -> None:
        elapsed = (time.monotonic() - started) * 1000
        logger.info(
            "ebay %s %s -> %s in %.0f ms%s",
            self.label,
            endpoint,
            status,
            elapsed,
            f" (retry {attempt})" if attempt else "",
        )

    def _read(
        self, endpoint: str, response: requests.Response, reader: Callable[[dict], Any]
    ) -> Any:
        try:
            body = response.json()
        except ValueError:
            raise EbayMalformed(
                "answer is not JSON", endpoint=endpoint, status=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise EbayMalformed(
                "answer is not a JSON object", endpoint=endpoint, status=response.status_code
            )
        try:
            return reader(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EbayMalformed(
                f"unexpected answer shape ({type(exc).__name__}: {exc})",
                endpoint=endpoint,
                status=response.status_code,
            ) from None

    def _pages(
        self, endpoint: str, url: str, key: str, reader: Callable[[Any], Any]
    ) -> Iterator[Page]:
        """Every page of a list, following eBay's ``next`` (its offsets mean different
        things on different resources: never computed here)."""
        seen = {url}
        current: str | None = url
        while current:
            response = self._send(endpoint, url=current)
            page = self._read(endpoint, response, lambda body: parse.page(body, key, reader))
            yield page
            if not page.next_url or not page.entries:
                return
            current = self._follow(endpoint, current, page.next_url, seen)

    # --- inventory ----------------------------------------------------------------------

    def inventory_pages(
        self, *, limit: int = INVENTORY_PAGE_MAX, start_url: str | None = None
    ) -> Iterator[tuple[str, Page, str | None]]:
        """getInventoryItems, page by page: (the page's address, the page, the next page's
        address or None). A run that stopped resumes from the address of a page it had not
        finished (checked to be eBay's, like every ``next``)."""
        if not 1 <= limit <= INVENTORY_PAGE_MAX:
            raise EbayRequestInvalid("limit must be between 1 and 200.", endpoint="inventory.list")
        seen: set[str] = set()
        if start_url is not None:
            current: str | None = self._follow("inventory.list", self.base_url, start_url, seen)
        else:
            current = self._url("inventory.list", query={"limit": str(limit)})
            seen.add(current)
        while current:
            response = self._send("inventory.list", url=current)
            page = self._read(
                "inventory.list",
                response,
                lambda body: parse.page(body, "inventoryItems", parse.inventory_item),
            )
            following = (
                self._follow("inventory.list", current, page.next_url, seen)
                if page.next_url and page.entries
                else None
            )
            yield current, page, following
            current = following

    def inventory_items(self, skus: Sequence[str]) -> dict[str, InventoryItem]:
        """bulkGetInventoryItem, 25 SKUs a call: the items eBay has (unknown SKUs left out)."""
        for sku in skus:
            if problem := sku_problem(sku):
                raise EbayRequestInvalid(problem, endpoint="inventory.bulk_get")
        found: dict[str, InventoryItem] = {}
        for start in range(0, len(skus), BULK_GET_MAX):
            chunk = list(skus[start : start + BULK_GET_MAX])
            response = self._send(
                "inventory.bulk_get", json_body={"requests": [{"sku": sku} for sku in chunk]}
            )

            def read(body: dict) -> list[InventoryItem]:
                items = []
                for entry in body["responses"]:
                    if entry.get("statusCode") == 200 and entry.get("inventoryItem"):
                        items.append(parse.inventory_item(entry["inventoryItem"]))
                return items

            for item in self._read("inventory.bulk_get", response, read):
                found[item.sku] = item
        return found

    def offers(self, sku: str) -> list[Offer]:
        """getOffers of one SKU (eBay requires the SKU), every page; none is not an error."""
        if problem := sku_problem(sku):
            raise EbayRequestInvalid(problem, endpoint="offer.list")
        url = self._url("offer.list", query={"sku": sku, "limit": "100"})
        offers: list[Offer] = []
        try:
            for page in self._pages("offer.list", url, "offers", parse.offer):
                offers.extend(page.entries)
        except EbayNotFound:
            return []  # eBay answers 404 for a SKU without offers
        return offers

    def bulk_update(self, updates: Sequence[QuantityUpdate]) -> list[EntryResult]:
        """bulkUpdatePriceQuantity: each SKU's item quantity and its offers' available
        quantity set to the same absolute value; at most 25 entries. The answer is per entry
        (200, or 207 when some failed): a refused entry fails alone."""
        updates = list(updates)
        if not updates:
            raise EbayRequestInvalid("Nothing to send.", endpoint="stock.bulk_update")
        if len(updates) > BULK_UPDATE_MAX:
            raise EbayRequestInvalid(
                "At most 25 SKUs per stock update.", endpoint="stock.bulk_update"
            )
        details = []
        for update in updates:
            if problem := sku_problem(update.sku):
                details.append(EbayErrorDetail("sku", problem))
            quantity = update.quantity
            if (
                isinstance(quantity, bool)
                or not isinstance(quantity, int)
                or not 0 <= quantity <= QUANTITY_MAX
            ):
                details.append(EbayErrorDetail("quantity", MSG_QUANTITY % update.sku))
            if len(update.offer_ids) > BULK_UPDATE_MAX:
                details.append(EbayErrorDetail("offers", "At most 25 offers per SKU."))
        if details:
            raise EbayRequestInvalid(
                "Invalid stock updates.", endpoint="stock.bulk_update", details=details
            )
        body = {
            "requests": [
                {
                    "sku": update.sku,
                    "shipToLocationAvailability": {"quantity": update.quantity},
                    **(
                        {
                            "offers": [
                                {"offerId": offer_id, "availableQuantity": update.quantity}
                                for offer_id in update.offer_ids
                            ]
                        }
                        if update.offer_ids
                        else {}
                    ),
                }
                for update in updates
            ]
        }
        response = self._send("stock.bulk_update", json_body=body)
        return self._read("stock.bulk_update", response, parse.bulk_update)

    # --- orders -------------------------------------------------------------------------

    def orders_modified(
        self, since: dt.datetime, *, limit: int = ORDERS_PAGE_MAX
    ) -> Iterator[Order]:
        """getOrders of every order modified since ``since`` (any status), every page."""
        if not 1 <= limit <= ORDERS_PAGE_MAX:
            raise EbayRequestInvalid("limit must be between 1 and 200.", endpoint="order.search")
        query = {
            "filter": f"lastmodifieddate:[{parse.ebay_datetime(since)}..]",
            "limit": str(limit),
        }
        url = self._url("order.search", query=query)
        for page in self._pages("order.search", url, "orders", parse.order):
            yield from page.entries

    def orders_by_id(self, order_ids: Sequence[str]) -> dict[str, Order]:
        """getOrders with ``orderIds`` (50 a call): the orders eBay knows."""
        found: dict[str, Order] = {}
        for start in range(0, len(order_ids), ORDER_IDS_MAX):
            chunk = order_ids[start : start + ORDER_IDS_MAX]
            url = self._url("order.search", query={"orderIds": ",".join(chunk)})
            for page in self._pages("order.search", url, "orders", parse.order):
                found.update((order.order_id, order) for order in page.entries)
        return found
