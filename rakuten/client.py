"""The one module that speaks HTTP to Rakuten RMS.

`RmsClient.for_store(store)` builds a client from a store's decrypted credentials
and base URL. Every method returns dataclasses from `rakuten.types` and raises
errors from `rakuten.errors`; nothing above this module sees `requests` or JSON.

Each call is spaced by the per-shop, per-endpoint limiter, has a timeout, and is
retried on 429, 5xx, 409 (CE0001) and timeouts with exponential backoff
(1 s, 2 s, 4 s by default, or longer when RMS sends Retry-After). 400 and 401
are never retried. A RELATIVE stock change is retried only when RMS said it did
not apply it (429, 409): after a timeout or a 5xx it may have been applied.
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from sync.errors import connection_failure as _connection_failure
from sync.ratelimit import RateLimiter
from sync.ratelimit import limiter as process_limiter

from . import parse
from .endpoints import (
    DEFAULT_RATE_LIMITS,
    ENDPOINTS,
    JSON_CONTENT_TYPE,
    JSON_CONTENT_TYPE_SPACED,
)
from .errors import (
    RmsAuthError,
    RmsBadRequest,
    RmsError,
    RmsErrorDetail,
    RmsMalformedResponse,
    RmsNotConfigured,
    RmsNotFound,
    RmsRateLimited,
    RmsRequestInvalid,
    RmsServerError,
    RmsTimeout,
)
from .types import (
    BULK_GET_BATCH,
    BULK_UPSERT_BATCH,
    ID_MAX_BYTES,
    JST,
    ORDER_BATCH,
    QUANTITY_MAX,
    SEARCH_RESULT_CAP,
    ConfirmResult,
    InventoryMode,
    InventoryRecord,
    InventoryUpdate,
    Item,
    LicenseExpiry,
    OrderSearchResult,
    OrdersResult,
    VariantKey,
)

if TYPE_CHECKING:
    from stores.models import Store

logger = logging.getLogger("rakuten.client")

# The Content-Type form RMS took, per shop (see endpoints.JSON_CONTENT_TYPE_SPACED).
_content_types: dict[str, str] = {}

_LICENSE_IN_URL = re.compile(r"(licenseKey=)[^&\s\"]+")


def redact(text: str) -> str:
    """Mask a licence key carried in a URL's query string."""
    return _LICENSE_IN_URL.sub(r"\1***", text)


def _expect_no_content(endpoint: str, response: requests.Response) -> None:
    """A stock write succeeded only on RMS's documented answer, 204 with no body; any other
    2xx is not counted as applied (the engine retries it and reads the stock back)."""
    if response.status_code != 204 or response.content.strip():
        raise RmsMalformedResponse(
            f"answered {response.status_code} with {len(response.content)} bytes instead of "
            "204 with no body: the stock is not counted as set",
            endpoint=endpoint,
            status=response.status_code,
        )


class RedactLicenseKey(logging.Filter):
    """urllib3 logs every request line at DEBUG, and the expiry call carries the key in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "licenseKey=" in message:
            record.msg, record.args = redact(message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactLicenseKey())

DEFAULT_BASE_URL = "https://api.rms.rakuten.co.jp"
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE = 1.0
RETRY_AFTER_MAX = 120.0
GET_ORDER_VERSION = 10
SEARCH_PAGE_SIZE = 1000
SEARCH_WINDOW_MAX = dt.timedelta(days=63)
SEARCH_LOOKBACK_MAX = dt.timedelta(days=730)
ITEM_SEARCH_HITS = 100
_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")

MSG_NO_CREDENTIALS = "The store has no RMS service secret or licence key."
MSG_EMPTY = "Nothing to send."


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_MAX)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _batches(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def _check_id(value: Any, field: str, row: int | None, path: str) -> list[RmsErrorDetail]:
    if not isinstance(value, str) or not value:
        return [RmsErrorDetail("IE0001", f"{field} is required.", path, row)]
    if len(value.encode()) > ID_MAX_BYTES:
        return [RmsErrorDetail("IE0004", f"{field} must be at most 32 bytes.", path, row)]
    if not _ID_CHARS.match(value):
        return [
            RmsErrorDetail("IE0002", f"{field} may only hold a-z, A-Z, 0-9, - and _.", path, row)
        ]
    return []


def _check_key(manage_number: Any, variant_id: Any, row: int | None) -> list[RmsErrorDetail]:
    prefix = f"inventories[{row}]." if row is not None else ""
    return _check_id(manage_number, "manageNumber", row, f"{prefix}manageNumber") + _check_id(
        variant_id, "variantId", row, f"{prefix}variantId"
    )


def _check_quantity(quantity: Any, mode: Any, row: int | None) -> list[RmsErrorDetail]:
    path = f"inventories[{row}].quantity" if row is not None else "quantity"
    if mode not in tuple(InventoryMode):
        return [RmsErrorDetail("IE0002", "mode must be ABSOLUTE or RELATIVE.", "mode", row)]
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return [RmsErrorDetail("IE0002", "quantity must be a whole number.", path, row)]
    low = 0 if mode == InventoryMode.ABSOLUTE else -QUANTITY_MAX
    if not low <= quantity <= QUANTITY_MAX:
        return [
            RmsErrorDetail(
                "IE0003", f"quantity must be between {low} and {QUANTITY_MAX}.", path, row
            )
        ]
    return []


class RmsClient:
    def __init__(
        self,
        *,
        service_secret: str,
        license_key: str,
        base_url: str = DEFAULT_BASE_URL,
        label: str = "",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        rate_limits: dict[str, float] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not service_secret or not license_key:
            raise RmsRequestInvalid(MSG_NO_CREDENTIALS)
        token = base64.b64encode(f"{service_secret}:{license_key}".encode()).decode()
        self._authorization = f"ESA {token}"
        self._license_key = license_key
        self.base_url = base_url.rstrip("/")
        # The limiter is keyed by shop: the licence key identifies it, hashed so it never shows.
        digest = hashlib.sha256(f"{self.base_url}|{license_key}".encode()).hexdigest()
        self.shop_key = digest[:16]
        self.label = label or self.shop_key[:8]
        self.timeout = timeout
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.limiter = limiter or process_limiter
        self._sleep = sleep
        self._local = threading.local()
        # Content-Type forms tried after a 415 (each at most once per client).
        self._tried: set[str] = set()
        self.last_uncertain = False

    def __repr__(self) -> str:
        return f"<RmsClient {self.label} {self.base_url}>"

    @classmethod
    def for_store(cls, store: Store, **overrides: Any) -> RmsClient:
        from django.conf import settings

        from sync.registry import api_url_problem

        problem = api_url_problem(store.platform_type, store.base_url)
        if problem:
            raise RmsNotConfigured(problem, endpoint=store.store_id)
        credentials = store.credentials()
        if not (credentials.get("service_secret") and credentials.get("license_key")):
            raise RmsRequestInvalid(MSG_NO_CREDENTIALS, endpoint=store.store_id)
        options: dict[str, Any] = {
            "timeout": tuple(getattr(settings, "RAKUTEN_TIMEOUT", DEFAULT_TIMEOUT)),
            "rate_limits": getattr(settings, "RAKUTEN_RATE_LIMITS", {}),
            "max_retries": getattr(settings, "RAKUTEN_MAX_RETRIES", DEFAULT_MAX_RETRIES),
            "backoff_base": getattr(settings, "RAKUTEN_BACKOFF_BASE", DEFAULT_BACKOFF_BASE),
        }
        options.update(overrides)
        return cls(
            service_secret=credentials["service_secret"],
            license_key=credentials["license_key"],
            base_url=store.base_url,
            label=store.store_id,
            **options,
        )

    # --- transport --------------------------------------------------------

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _classify(self, endpoint: str, response: requests.Response) -> RmsError:
        try:
            body = response.json()
        except ValueError:
            body = None
        details = parse.error_details(body)
        status = response.status_code
        kwargs = {"endpoint": endpoint, "status": status, "details": details}
        if status in (401, 403):
            return RmsAuthError("RMS refused the credentials", **kwargs)
        if status == 404:
            return RmsNotFound("not found", **kwargs)
        if status == 429:
            return RmsRateLimited(
                "rate limited",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        if status == 409 or status >= 500:
            return RmsServerError("RMS is unavailable or busy", **kwargs)
        return RmsBadRequest("RMS refused the request", **kwargs)

    def _content_type_refused(self, error: RmsError, headers: dict[str, str]) -> bool:
        """RMS refused the body's Content-Type (415 ES04-03): switch this shop to the other
        form once, and keep it. False when there is no other form left to try."""
        if error.status != 415 or "ES04-03" not in error.codes or "Content-Type" not in headers:
            return False
        sent = headers["Content-Type"]
        other = JSON_CONTENT_TYPE_SPACED if sent == JSON_CONTENT_TYPE else JSON_CONTENT_TYPE
        self._tried.add(sent)
        if other in self._tried:
            return False
        self._tried.add(other)
        _content_types[self.shop_key] = other
        headers["Content-Type"] = other
        logger.warning(
            "rms %s: Content-Type %r refused (415 ES04-03); using %r", self.label, sent, other
        )
        return True

    def _send(
        self,
        endpoint: str,
        *,
        path_params: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        method, path = ENDPOINTS[endpoint]
        if path_params:
            path = path.format(**{k: quote(v, safe="") for k, v in path_params.items()})
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = _content_types.get(self.shop_key, JSON_CONTENT_TYPE)
            data = json.dumps(body, ensure_ascii=False).encode()
        rate = self.rate_limits.get(endpoint, 1)
        attempt = 0
        # Whether an earlier attempt of this call may have been applied by RMS (a timeout,
        # a 5xx, a dropped connection): the caller then reads the result back later.
        self.last_uncertain = False
        while True:
            slot = self.limiter.acquire(self.shop_key, endpoint, rate)
            started = time.monotonic()
            error: RmsError
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    params=query,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.Timeout:
                error = RmsTimeout(f"no answer within {self.timeout[1]:g} s", endpoint=endpoint)
                status_text = "timeout"
            except requests.RequestException as exc:
                error = RmsServerError(_connection_failure(exc, self.base_url), endpoint=endpoint)
                status_text = "connection-error"
            else:
                status_text = str(response.status_code)
            finally:
                self.limiter.release(self.shop_key, endpoint, slot)
            if status_text.isdigit():
                if response.status_code < 300:
                    self._log(endpoint, status_text, started, attempt)
                    return response
                error = self._classify(endpoint, response)
                if self._content_type_refused(error, headers):
                    self._log(endpoint, status_text, started, attempt)
                    continue  # nothing was applied: the same call, in the other form
            self._log(endpoint, status_text, started, attempt)
            uncertain = not isinstance(error, RmsRateLimited) and error.status != 409
            self.last_uncertain = self.last_uncertain or uncertain
            if not error.retryable or attempt >= self.max_retries or (uncertain and not idempotent):
                raise error
            delay = self.backoff_base * 2**attempt
            if isinstance(error, RmsRateLimited) and error.retry_after is not None:
                delay = max(delay, error.retry_after)
            self._sleep(delay)
            attempt += 1

    def _log(self, endpoint: str, status: str, started: float, attempt: int) -> None:
        elapsed = (time.monotonic() - started) * 1000
        logger.info(
            "rms %s %s -> %s in %.0f ms%s",
            self.label,
            endpoint,
            status,
            elapsed,
            f" (retry {attempt})" if attempt else "",
        )

    def _json(self, endpoint: str, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise RmsMalformedResponse(
                "answer is not JSON", endpoint=endpoint, status=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise RmsMalformedResponse(
                "answer is not a JSON object", endpoint=endpoint, status=response.status_code
            )
        return body

    def _call(self, endpoint: str, reader: Callable[[dict[str, Any]], Any], **kwargs: Any) -> Any:
        response = self._send(endpoint, **kwargs)
        body = self._json(endpoint, response)
        try:
            return reader(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RmsMalformedResponse(
                f"unexpected answer shape ({type(exc).__name__}: {exc})",
                endpoint=endpoint,
                status=response.status_code,
            ) from None

    # --- orders -----------------------------------------------------------

    def search_orders(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        date_type: int = 1,
        statuses: Iterable[int] | None = None,
        page_size: int = SEARCH_PAGE_SIZE,
        now: dt.datetime | None = None,
    ) -> OrderSearchResult:
        """Every order number in [start, end], all pages, oldest first.

        RMS returns at most 15,000 per search: `result.truncated` says the window
        must be split.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise RmsRequestInvalid("Search datetimes must be timezone-aware.")
        if end < start:
            raise RmsRequestInvalid("The search window ends before it starts.")
        if end - start > SEARCH_WINDOW_MAX:
            raise RmsRequestInvalid("A search window may span at most 63 days.")
        if start < (now or dt.datetime.now(JST)) - SEARCH_LOOKBACK_MAX:
            raise RmsRequestInvalid("RMS only searches the last 730 days.")
        if not 1 <= page_size <= SEARCH_PAGE_SIZE:
            raise RmsRequestInvalid("page_size must be between 1 and 1000.")
        request: dict[str, Any] = {
            "dateType": date_type,
            "startDatetime": parse.rms_datetime(start),
            "endDatetime": parse.rms_datetime(end),
        }
        if statuses:
            request["orderProgressList"] = sorted(set(statuses))
        numbers: dict[str, None] = {}
        total = 0
        page = 1
        while True:
            request["PaginationRequestModel"] = {
                "requestRecordsAmount": page_size,
                "requestPage": page,
                "SortModelList": [{"sortColumn": 1, "sortDirection": 1}],
            }
            result, pages = self._call(
                "order.search",
                lambda body: (parse.search_result(body), parse.search_total_pages(body)),
                body=request,
            )
            total = max(total, result.total)
            numbers.update(dict.fromkeys(result.order_numbers))
            reachable = min(total, SEARCH_RESULT_CAP)
            if page >= pages or not result.order_numbers or len(numbers) >= reachable:
                break
            page += 1
        return OrderSearchResult(order_numbers=list(numbers), total=max(total, len(numbers)))

    def _check_order_numbers(self, order_numbers: Sequence[str]) -> list[str]:
        numbers = list(dict.fromkeys(order_numbers))
        if any(not isinstance(number, str) or not number for number in numbers):
            raise RmsRequestInvalid("Order numbers must be non-empty strings.")
        return numbers

    def get_orders(
        self, order_numbers: Sequence[str], *, version: int = GET_ORDER_VERSION
    ) -> OrdersResult:
        """Full orders, fetched 100 at a time."""
        numbers = self._check_order_numbers(order_numbers)
        orders, not_found = [], []
        for _start, batch in _batches(numbers, ORDER_BATCH):
            result = self._call(
                "order.get",
                parse.orders_result,
                body={"orderNumberList": list(batch), "version": version},
            )
            orders.extend(result.orders)
            not_found.extend(result.not_found)
        return OrdersResult(orders=orders, not_found=not_found)

    def confirm_orders(self, order_numbers: Sequence[str]) -> ConfirmResult:
        """Confirm orders 100 at a time; RMS may refuse some and accept the rest."""
        numbers = self._check_order_numbers(order_numbers)
        confirmed: list[str] = []
        failed: dict[str, str] = {}
        for _start, batch in _batches(numbers, ORDER_BATCH):
            result = self._call(
                "order.confirm",
                lambda body, batch=batch: parse.confirm_result(body, batch),
                body={"orderNumberList": list(batch)},
            )
            confirmed.extend(result.confirmed)
            failed.update(result.failed)
        return ConfirmResult(confirmed=confirmed, failed=failed)

    # --- inventory --------------------------------------------------------

    def inventory_bulk_get(self, keys: Sequence[VariantKey]) -> list[InventoryRecord]:
        """Stock of the given variants, 1000 per call. Variants RMS does not hold are absent."""
        details = [
            detail
            for row, key in enumerate(keys)
            for detail in _check_key(key.manage_number, key.variant_id, row)
        ]
        if details:
            raise RmsRequestInvalid("Invalid variant keys.", details=details)
        records: list[InventoryRecord] = []
        for _start, batch in _batches(list(dict.fromkeys(keys)), BULK_GET_BATCH):
            records.extend(
                self._call(
                    "inventory.bulk_get",
                    parse.inventory_records,
                    body={
                        "inventories": [
                            {"manageNumber": key.manage_number, "variantId": key.variant_id}
                            for key in batch
                        ]
                    },
                )
            )
        return records

    def inventory_bulk_upsert(self, updates: Sequence[InventoryUpdate]) -> bool:
        """Set or change stock, 400 per call. Everything is checked before the first call.

        If RMS refuses a batch, the error's details name rows of `updates`, and
        `error.applied` says how many rows before that batch were already sent. Returns
        True when an attempt timed out or failed before the write succeeded (that attempt
        may still land late, over the value written).
        """
        uncertain = False
        if not updates:
            raise RmsRequestInvalid(MSG_EMPTY)
        details: list[RmsErrorDetail] = []
        seen: dict[VariantKey, int] = {}
        for row, update in enumerate(updates):
            details += _check_key(update.manage_number, update.variant_id, row)
            details += _check_quantity(update.quantity, update.mode, row)
            if update.key in seen:
                details.append(
                    RmsErrorDetail(
                        "IE1102",
                        f"Same manageNumber and variantId as row {seen[update.key]}.",
                        f"inventories[{row}]",
                        row,
                    )
                )
            seen.setdefault(update.key, row)
        if details:
            raise RmsRequestInvalid("Invalid stock updates.", details=details)
        for start, batch in _batches(list(updates), BULK_UPSERT_BATCH):
            body = {
                "inventories": [
                    {
                        "manageNumber": update.manage_number,
                        "variantId": update.variant_id,
                        "mode": str(update.mode),
                        "quantity": update.quantity,
                    }
                    for update in batch
                ]
            }
            idempotent = all(update.mode == InventoryMode.ABSOLUTE for update in batch)
            try:
                response = self._send("inventory.bulk_upsert", body=body, idempotent=idempotent)
                _expect_no_content("inventory.bulk_upsert", response)
                uncertain = uncertain or self.last_uncertain
            except RmsError as error:
                error.details = [
                    RmsErrorDetail(
                        d.code,
                        d.message,
                        d.property_path,
                        None if d.row is None else d.row + start,
                        d.order_number,
                    )
                    for d in error.details
                ]
                error.applied = start
                raise
        return uncertain

    def variant_get(self, manage_number: str, variant_id: str) -> InventoryRecord:
        details = _check_key(manage_number, variant_id, None)
        if details:
            raise RmsRequestInvalid("Invalid variant key.", details=details)
        return self._call(
            "inventory.variant.get",
            parse.inventory_record,
            path_params={"manage_number": manage_number, "variant_id": variant_id},
        )

    def variant_upsert(
        self,
        manage_number: str,
        variant_id: str,
        quantity: int,
        mode: InventoryMode = InventoryMode.ABSOLUTE,
    ) -> None:
        details = _check_key(manage_number, variant_id, None) + _check_quantity(
            quantity, mode, None
        )
        if details:
            raise RmsRequestInvalid("Invalid stock update.", details=details)
        response = self._send(
            "inventory.variant.upsert",
            path_params={"manage_number": manage_number, "variant_id": variant_id},
            body={"mode": str(mode), "quantity": quantity},
            idempotent=mode == InventoryMode.ABSOLUTE,
        )
        _expect_no_content("inventory.variant.upsert", response)

    # --- items ------------------------------------------------------------

    def items_search(
        self,
        *,
        hits: int = ITEM_SEARCH_HITS,
        on_total: Callable[[int], None] | None = None,
        **filters: str,
    ) -> Iterator[Item]:
        """Every item matching the filters, walking the whole result with cursorMark.

        `on_total` hears RMS's count of matching items once, from the first page."""
        if not 1 <= hits <= ITEM_SEARCH_HITS:
            raise RmsRequestInvalid("hits must be between 1 and 100.")
        cursor = "*"
        while True:
            items, next_cursor, found = self._call(
                "items.search",
                parse.item_search_page,
                query={**filters, "hits": hits, "cursorMark": cursor},
            )
            if on_total is not None and cursor == "*":
                on_total(found)
            yield from items
            if not items or not next_cursor or next_cursor == cursor:
                return
            cursor = next_cursor

    # --- licence ----------------------------------------------------------

    def license_expiry(self) -> LicenseExpiry:
        """When the licence key expires; also the auth test (RmsAuthError when refused)."""
        return self._call(
            "license.expiry", parse.license_expiry, query={"licenseKey": self._license_key}
        )
