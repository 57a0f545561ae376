"""The one module that speaks HTTP to futureshop (API v2).

`FutureshopClient.for_store(store)` builds a client from a store's decrypted credentials
(`api_domain`, `shop_key`, `client_id`, `client_secret`) and, for the sandbox, the
`base_url` of its api_config. Every method returns dataclasses from `futureshop.types`
and raises errors from `futureshop.errors`; nothing above this module sees `requests`.

Auth: a client-credentials token (`POST /oauth/token`, Basic auth + X-SHOP-KEY), kept
until 60 s before it expires; every call sends `Authorization: Bearer …` and
`X-SHOP-KEY`. A 401 fetches a new token once and repeats the call once.

Each call is spaced by the per-shop, per-endpoint limiter (1/s by default: futureshop
publishes no limit and public clients wait a second between calls), has a timeout, and
is retried on 429, 5xx, dropped connections and timeouts with exponential backoff
(1 s, 2 s, 4 s by default, or longer when futureshop sends Retry-After). Other refusals
are never retried. Stock is only ever written as an absolute count, so a write repeated
after a timeout sets the same value.

Neither the client secret, the shop key nor a token is ever logged or put in a message.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
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
    FutureshopAuthError,
    FutureshopBadRequest,
    FutureshopBusy,
    FutureshopError,
    FutureshopErrorDetail,
    FutureshopMalformed,
    FutureshopNotFound,
    FutureshopRequestInvalid,
    FutureshopServerError,
    FutureshopTimeout,
)
from .types import (
    BRANCH_NO_MAX_BYTES,
    COUNT_MAX,
    PRODUCT_NO_MAX_BYTES,
    PRODUCTS_PER_REQUEST,
    STATUS_FAILED,
    STATUS_SUCCESS,
    InventoryEntry,
    Order,
    ProductResult,
    SearchedOrder,
    StockUpdate,
    UpdateResult,
)

if TYPE_CHECKING:
    import datetime as dt

    from stores.models import Store

logger = logging.getLogger("futureshop.client")


class Endpoint(NamedTuple):
    method: str
    path: str


ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("POST", "/oauth/token"),
    "inventory.update": Endpoint("POST", "/admin-api/v1/inventory"),
    "inventory.search": Endpoint("GET", "/admin-api/v1/inventory"),
    "shipping.search": Endpoint("GET", "/admin-api/v1/shipping"),
    "order.get": Endpoint("GET", "/admin-api/v1/orders/{order_no}"),
}
# Calls per second per shop and endpoint; FUTURESHOP_RATE_LIMITS overrides any of them.
DEFAULT_RATE_LIMITS: dict[str, float] = dict.fromkeys(ENDPOINTS, 1.0)

CREDENTIAL_KEYS = ("api_domain", "shop_key", "client_id", "client_secret")
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE = 1.0
RETRY_AFTER_MAX = 120.0
# A token is dropped this long before futureshop says it expires.
TOKEN_MARGIN = 60.0
# The lifetime is not published: without expires_in a token is kept this long.
TOKEN_TTL_UNKNOWN = 300.0
ERRORS_PRESENT = "ErrorsPresent"
# Codes that refuse the whole request even when they come under `results`.
REQUEST_CODES = frozenset({"TooMany", "WrongFormat", "InvalidDateFormat"})
NO_RESULT = "NoResult"

MSG_EMPTY = "Nothing to send."
MSG_NOT_SET = "nothing is counted as set"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_MAX)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _check_text(
    value: Any, field: str, max_bytes: int, row: int | None, path: str, *, required: bool
) -> list[FutureshopErrorDetail]:
    if not isinstance(value, str):
        return [FutureshopErrorDetail("InvalidFormat", f"{field} must be a string.", path, row=row)]
    if required and not value:
        return [FutureshopErrorDetail("Required", f"{field} is required.", path, row=row)]
    if len(value.encode()) > max_bytes:
        message = f"{field} must be at most {max_bytes} bytes."
        return [FutureshopErrorDetail("TooLong", message, path, row=row)]
    return []


def check_updates(updates: Sequence[StockUpdate]) -> list[FutureshopErrorDetail]:
    """Everything futureshop would refuse in these updates, naming each one's index."""
    details: list[FutureshopErrorDetail] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row, update in enumerate(updates):
        path = f"updates[{row}]"
        product_no = update.product_no if isinstance(update.product_no, str) else None
        found = _check_text(
            update.product_no,
            "productNo",
            PRODUCT_NO_MAX_BYTES,
            row,
            f"{path}.productNo",
            required=True,
        )
        for field, value in (
            ("verticalNo", update.vertical_no),
            ("horizontalNo", update.horizontal_no),
        ):
            found += _check_text(
                value, field, BRANCH_NO_MAX_BYTES, row, f"{path}.{field}", required=False
            )
        count = update.count
        if isinstance(count, bool) or not isinstance(count, int):
            found.append(
                FutureshopErrorDetail(
                    "InvalidFormat", "count must be a whole number.", f"{path}.count", None, row
                )
            )
        elif not 0 <= count <= COUNT_MAX:
            found.append(
                FutureshopErrorDetail(
                    "OutOfRange",
                    f"count must be between 0 and {COUNT_MAX:,}.",
                    f"{path}.count",
                    None,
                    row,
                )
            )
        key = (update.product_no, update.vertical_no, update.horizontal_no)
        if not found:
            if key in seen:
                found.append(
                    FutureshopErrorDetail(
                        "DuplicatedStock",
                        f"Same productNo, verticalNo and horizontalNo as updates[{seen[key]}].",
                        path,
                        None,
                        row,
                    )
                )
            seen.setdefault(key, row)
        details += [
            FutureshopErrorDetail(d.code, d.message, d.path, product_no, d.row) for d in found
        ]
    return details


class FutureshopClient:
    def __init__(
        self,
        *,
        api_domain: str,
        shop_key: str,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        rate_per_second: float | Mapping[str, float] = 1.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        limiter: RateLimiter | None = None,
        label: str = "",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        given = {
            "api_domain": api_domain or base_url,
            "shop_key": shop_key,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise FutureshopRequestInvalid(_msg_missing(missing))
        if not base_url and api_domain_problem(api_domain):
            raise FutureshopRequestInvalid(api_domain_problem(api_domain))
        self.base_url = (base_url or f"https://{api_domain}").rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme.lower(), parts.netloc.lower())
        self._shop_key = shop_key
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {basic}"
        # The limiter is keyed by shop: the shop key identifies it, hashed so it never shows.
        self.shop_id = hashlib.sha256(f"{self.base_url}|{shop_key}".encode()).hexdigest()[:16]
        self.label = label or self.shop_id[:8]
        self.last_uncertain = False
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
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._access_token: str | None = None
        self._token_expires = 0.0

    def __repr__(self) -> str:
        return f"<FutureshopClient {self.label}>"

    @classmethod
    def for_store(cls, store: Store, **overrides: Any) -> FutureshopClient:
        from django.conf import settings

        credentials = store.credentials()
        missing = [key for key in CREDENTIAL_KEYS if not credentials.get(key)]
        if missing:
            raise FutureshopRequestInvalid(_msg_missing(missing), endpoint=store.store_id)
        rates = getattr(settings, "FUTURESHOP_RATE_LIMITS", None)
        if rates is None or rates == {}:
            rates = DEFAULT_RATE_LIMITS
        options: dict[str, Any] = {
            "base_url": (store.api_config or {}).get("base_url") or None,
            "timeout": getattr(settings, "FUTURESHOP_TIMEOUT", DEFAULT_TIMEOUT),
            "rate_per_second": rates,
            "max_retries": getattr(settings, "FUTURESHOP_MAX_RETRIES", DEFAULT_MAX_RETRIES),
            "backoff_base": getattr(settings, "FUTURESHOP_BACKOFF_BASE", DEFAULT_BACKOFF_BASE),
            "label": store.store_id,
        }
        options.update(overrides)
        return cls(**{key: credentials[key] for key in CREDENTIAL_KEYS}, **options)

    # --- auth -------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token, fetched when there is none or it is about to expire.

        Also the auth test: FutureshopAuthError when futureshop refuses the credentials."""
        with self._token_lock:
            if self._access_token and self._clock() < self._token_expires:
                return self._access_token
            self._access_token = None
            response = self._send("token", form={"grant_type": "client_credentials"})
            access_token, expires_in = self._read("token", response, parse.token)
            lifetime = TOKEN_TTL_UNKNOWN if expires_in is None else expires_in - TOKEN_MARGIN
            self._access_token = access_token
            self._token_expires = self._clock() + lifetime
            return access_token

    def _drop_token(self, stale: str) -> None:
        with self._token_lock:
            if self._access_token == stale:
                self._access_token = None

    # --- transport --------------------------------------------------------------------

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
            url += "?" + urlencode(query, safe=",")
        return url

    def _follow(
        self, endpoint: str, current: str, next_url: str | None, seen: set[str]
    ) -> str | None:
        """The next page's address, only on futureshop's own host."""
        if not next_url:
            return None
        url = urljoin(current, next_url)
        parts = urlsplit(url)
        if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
            raise FutureshopMalformed(
                "nextUrl points to another host than the API's; not followed", endpoint=endpoint
            )
        if url in seen:
            raise FutureshopMalformed("nextUrl repeats a page already read", endpoint=endpoint)
        seen.add(url)
        return url

    def _classify(self, endpoint: str, response: requests.Response) -> FutureshopError:
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
            return FutureshopBusy(
                "rate limited",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        if status >= 500:
            return FutureshopServerError("futureshop is unavailable", **kwargs)
        if status == 408:
            return FutureshopTimeout("futureshop timed out the request", **kwargs)
        if status < 400:
            return FutureshopMalformed("answered with a redirect", **kwargs)
        if endpoint == "token" or status in (401, 403):
            return FutureshopAuthError(
                "futureshop refused the credentials (client id, secret, shop key or IP)", **kwargs
            )
        if status == 404:
            return FutureshopNotFound("not found", **kwargs)
        return FutureshopBadRequest("futureshop refused the request", **kwargs)

    def _send(
        self,
        endpoint: str,
        *,
        url: str | None = None,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        read_refusals: bool = False,
    ) -> requests.Response:
        """One call with its retries. With `read_refusals`, a 4xx other than 401/403/404/
        408/429 is handed back for the caller to read (an update's answer says which
        products failed whatever the HTTP status)."""
        method = ENDPOINTS[endpoint].method
        url = url or self._url(endpoint, path_params=path_params, query=query)
        headers = {"Accept": "application/json", "X-SHOP-KEY": self._shop_key}
        data: bytes | str | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, ensure_ascii=False).encode()
        elif form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urlencode(form)
        bearer = endpoint != "token"
        rate = self.rate_limits.get(endpoint, 1.0)
        attempt = 0
        refreshed = False
        # Whether an earlier attempt may have been applied (a timeout, a 5xx, a dropped
        # connection): a write's caller then reads the result back later.
        self.last_uncertain = False
        while True:
            access_token = ""
            if bearer:
                access_token = self.token()
                headers["Authorization"] = f"Bearer {access_token}"
            else:
                headers["Authorization"] = self._basic
            error: FutureshopError
            slot = self.limiter.acquire(self.shop_id, endpoint, rate)
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
                error = FutureshopTimeout("no answer in time", endpoint=endpoint)
                status_text = "timeout"
            except requests.RequestException as exc:
                error = FutureshopServerError(_connection_failure(exc, url), endpoint=endpoint)
                status_text = "connection-error"
            else:
                status_text = str(response.status_code)
            finally:
                self.limiter.release(self.shop_id, endpoint, slot)
            self._log(endpoint, status_text, started, attempt)
            if status_text.isdigit():
                status = response.status_code
                if status < 300:
                    return response
                if status == 401 and bearer and not refreshed:
                    # The token may have been revoked or expired early: one new one, one retry.
                    self._drop_token(access_token)
                    refreshed = True
                    continue
                if (
                    read_refusals
                    and 400 <= status < 500
                    and status not in (401, 403, 404, 408, 429)
                ):
                    return response
                error = self._classify(endpoint, response)
            if error.retryable and not isinstance(error, FutureshopBusy):
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
            "futureshop %s %s -> %s in %.0f ms%s",
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
            raise FutureshopMalformed(
                "answer is not JSON", endpoint=endpoint, status=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise FutureshopMalformed(
                "answer is not a JSON object", endpoint=endpoint, status=response.status_code
            )
        try:
            return reader(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FutureshopMalformed(
                f"unexpected answer shape ({type(exc).__name__}: {exc})",
                endpoint=endpoint,
                status=response.status_code,
            ) from None

    def _pages(
        self, endpoint: str, url: str, reader: Callable[[dict], Any]
    ) -> Iterator[tuple[Any, int | None]]:
        """Each page's reading and the total it carries (if any), following nextUrl."""
        seen = {url}
        next_page: str | None = url
        while next_page:
            response = self._send(endpoint, url=next_page)
            page, following, total = self._read(
                endpoint, response, lambda b: (reader(b), parse.next_url(b), parse.total(b))
            )
            yield page, total
            next_page = self._follow(endpoint, next_page, following, seen)

    # --- inventory --------------------------------------------------------------------

    def inventory_update(self, updates: Sequence[StockUpdate]) -> UpdateResult:
        """Set each SKU's regular stock to its absolute count, 100 products per request.

        Everything is checked before the first call (FutureshopRequestInvalid naming the
        updates' indexes). Products futureshop refused come back in
        `result.failed_products` (not an exception); the others were set. If a later
        request fails, the error's `applied` names the products set by earlier ones.
        """
        updates = list(updates)
        if not updates:
            raise FutureshopRequestInvalid(MSG_EMPTY, endpoint="inventory.update")
        details = check_updates(updates)
        if details:
            raise FutureshopRequestInvalid(
                "Invalid stock updates.", endpoint="inventory.update", details=details
            )
        grouped: dict[str, list[StockUpdate]] = {}
        for update in updates:
            grouped.setdefault(update.product_no, []).append(update)
        products = list(grouped)
        results: list[ProductResult] = []
        codes: dict[str, None] = {}
        status = STATUS_SUCCESS
        uncertain = False
        for start in range(0, len(products), PRODUCTS_PER_REQUEST):
            batch = products[start : start + PRODUCTS_PER_REQUEST]
            body = {
                "productList": [
                    {
                        "productNo": product_no,
                        "inventoryInfo": {
                            "regular": {
                                "inventoryList": [
                                    {
                                        "verticalNo": update.vertical_no,
                                        "horizontalNo": update.horizontal_no,
                                        "count": update.count,
                                    }
                                    for update in grouped[product_no]
                                ]
                            }
                        },
                    }
                    for product_no in batch
                ]
            }
            try:
                response = self._send("inventory.update", json_body=body, read_refusals=True)
                uncertain = uncertain or self.last_uncertain
                result = self._update_result(response, batch)
            except FutureshopError as error:
                failed = {r.product_no for r in results if not r.ok}
                error.applied = tuple(p for p in products[:start] if p not in failed)
                raise
            if result.status != STATUS_SUCCESS:
                status = STATUS_FAILED
            results.extend(result.results)
            codes.update(dict.fromkeys(result.error_codes))
        return UpdateResult(
            status=status, results=tuple(results), error_codes=tuple(codes), uncertain=uncertain
        )

    def _update_result(self, response: requests.Response, batch: list[str]) -> UpdateResult:
        endpoint = "inventory.update"
        http = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if http >= 400:
                raise FutureshopBadRequest(
                    "futureshop refused the update", endpoint=endpoint, status=http
                )
            raise FutureshopMalformed(
                f"answer is not a JSON object: {MSG_NOT_SET}", endpoint=endpoint, status=http
            )
        details = parse.error_details(body)
        codes = tuple(detail.code for detail in details)
        try:
            results = parse.product_results(body)
        except (TypeError, ValueError) as exc:
            raise FutureshopMalformed(
                f"unreadable results ({exc}): {MSG_NOT_SET}", endpoint=endpoint, status=http
            ) from None
        top = body.get("status")
        # Refusals of the whole request: nothing was set.
        refused = [detail for detail in details if detail.code != ERRORS_PRESENT]
        refused += [
            FutureshopErrorDetail(r.code, r.message, None, r.product_no or None)
            for r in results
            if not r.ok and (r.code in REQUEST_CODES or not r.product_no)
        ]
        if refused:
            raise FutureshopBadRequest(
                "futureshop refused the update", endpoint=endpoint, status=http, details=refused
            )
        if top == STATUS_SUCCESS:
            if not isinstance(body.get("results"), list):
                raise FutureshopMalformed(
                    f"success without results: {MSG_NOT_SET}", endpoint=endpoint, status=http
                )
        elif top == STATUS_FAILED:
            if not results:
                raise FutureshopMalformed(
                    f"failed without per-product results: {MSG_NOT_SET}",
                    endpoint=endpoint,
                    status=http,
                    details=details,
                )
            # A product the answer does not mention is not counted as set.
            answered = {r.product_no for r in results}
            results += [
                ProductResult(product_no, STATUS_FAILED, NO_RESULT, "no result for this product")
                for product_no in batch
                if product_no not in answered
            ]
        elif http >= 400:
            raise FutureshopBadRequest(
                "futureshop refused the update", endpoint=endpoint, status=http, details=details
            )
        else:
            raise FutureshopMalformed(
                f"no success/failed status: {MSG_NOT_SET}", endpoint=endpoint, status=http
            )
        return UpdateResult(status=top, results=tuple(results), error_codes=codes)

    def inventory_search(
        self,
        product_nos: Sequence[str] | None = None,
        *,
        on_total: Callable[[int], None] | None = None,
    ) -> Iterator[InventoryEntry]:
        """Regular stock per SKU of the given products (100 per call), or of every product
        (None), following nextUrl. Product numbers are checked before the first call.

        `on_total` hears, once, the number of products asked for, or without product
        numbers the total of the first page should futureshop send one."""
        batches: list[list[str] | None] = [None]
        asked: int | None = None
        if product_nos is not None:
            if isinstance(product_nos, str):
                product_nos = [product_nos]
            numbers = list(dict.fromkeys(product_nos))
            details = [
                detail
                for row, number in enumerate(numbers)
                for detail in _check_text(
                    number,
                    "productNo",
                    PRODUCT_NO_MAX_BYTES,
                    row,
                    f"productNo[{row}]",
                    required=True,
                )
            ]
            if details:
                raise FutureshopRequestInvalid(
                    "Invalid product numbers.", endpoint="inventory.search", details=details
                )
            batches = [
                numbers[start : start + PRODUCTS_PER_REQUEST]
                for start in range(0, len(numbers), PRODUCTS_PER_REQUEST)
            ]
            asked = len(numbers)
        return self._inventory_pages(batches, on_total, asked)

    def _inventory_pages(
        self,
        batches: list[list[str] | None],
        on_total: Callable[[int], None] | None,
        asked: int | None,
    ) -> Iterator[InventoryEntry]:
        if on_total is not None and asked is not None:
            on_total(asked)
            on_total = None
        for batch in batches:
            query = {"types": "regular"}
            if batch is not None:
                query = {"productNo": ",".join(batch), **query}
            url = self._url("inventory.search", query=query)
            for entries, total in self._pages(
                "inventory.search", url, lambda b: list(parse.inventory_entries(b))
            ):
                if on_total is not None:
                    if total is not None:
                        on_total(total)
                    on_total = None
                yield from entries

    # --- orders -----------------------------------------------------------------------

    def shipping_search(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Order numbers of the orders placed in [start, end] (Japan time), every page."""
        return [order.order_no for order in self.shipping_orders(start, end)]

    def shipping_orders(self, start: dt.datetime, end: dt.datetime) -> list[SearchedOrder]:
        """The orders placed in [start, end] (Japan time), every page, each with the status
        and lines the search shows (an order on two pages is kept once, the later view)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise FutureshopRequestInvalid(
                "Search datetimes must be timezone-aware.", endpoint="shipping.search"
            )
        if end < start:
            raise FutureshopRequestInvalid(
                "The search window ends before it starts.", endpoint="shipping.search"
            )
        url = self._url(
            "shipping.search",
            query={
                "orderDateStart": parse.fs_datetime(start),
                # Whole seconds: the end rounded up, so an order placed in the window's last
                # second is inside it (the start rounds down).
                "orderDateEnd": parse.fs_datetime(
                    end + dt.timedelta(seconds=1) if end.microsecond else end
                ),
            },
        )
        orders: dict[str, SearchedOrder] = {}
        for page, _total in self._pages("shipping.search", url, parse.searched_orders):
            orders.update((order.order_no, order) for order in page)
        return list(orders.values())

    def order_get(self, order_no: str) -> Order | None:
        """One order in detail with its lines; None when futureshop does not know it (404)."""
        if not isinstance(order_no, str) or not order_no.strip():
            raise FutureshopRequestInvalid("An order number is required.", endpoint="order.get")
        try:
            response = self._send("order.get", path_params={"order_no": order_no})
        except FutureshopNotFound:
            return None
        return self._read("order.get", response, parse.order)


# A host name (letters, digits, dots, hyphens), nothing else: the client secret is sent
# to https://{api domain}, so a scheme, path or user part must not sneak in.
API_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)
MSG_API_DOMAIN = (
    "The futureshop API domain must be a host name only, such as api.example.future-shop.jp "
    "(no https://, no path): %(value)s"
)


def api_domain_problem(value: str) -> str | None:
    """Why ``value`` is not an API domain futureshop issues, or None."""
    if API_DOMAIN.fullmatch(value or ""):
        return None
    return MSG_API_DOMAIN % {"value": repr(value)[:80]}


def _msg_missing(missing: list[str]) -> str:
    return f"The store's futureshop credentials lack: {', '.join(missing)}."
