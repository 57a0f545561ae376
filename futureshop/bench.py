"""What the sync benchmarks need of futureshop (`manage.py bench_sync --platform futureshop`).

The futureshop sandbox as a process of its own, the bench catalogue in the sandbox and in
FutureshopBinding, and the in-process sandbox the latency part runs its shops in. No engine
or demo code here: the command in `demo` picks this kit or Rakuten's.

The catalogue is shaped like a real one: variation products of 1 to 9 SKUs, the sizes
cycling 1, 2, …, 9 (5 SKUs a product on average). Our SKU b000123 is skuNo B000123; a
product's SKUs have verticalNo "" and horizontalNo "01", "02", …, a single-SKU product has
neither branch number, as in futureshop's captured answers.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from events.actors import Actor
from futureshop.client import DEFAULT_RATE_LIMITS
from futureshop.models import FutureshopBinding
from futureshop.sandbox.server import SandboxServer
from futureshop.sandbox.state import Sandbox
from futureshop.types import COUNT_MAX, PRODUCTS_PER_REQUEST
from stores.models import Store
from stores.services import store_create
from sync.sandbox import bench as kit

PLATFORM = "futureshop"
DEFAULT_SKUS = 20_000
QUANTITY_MAX = COUNT_MAX
LARGEST_PRODUCT = 9  # SKUs; product sizes cycle 1, 2, …, LARGEST_PRODUCT
UPDATE_ENDPOINT = "inventory.update"


def sandbox_process() -> tuple[subprocess.Popen, str]:
    """`manage.py futureshop_sandbox` on a free port, with futureshop's rate limits."""
    return kit.sandbox_process("futureshop_sandbox", "futureshop sandbox on")


def code(i: int) -> str:
    """The skuNo of bench SKU i (our SKU id is its lower case)."""
    return f"B{i:06d}"


@cache
def layout(n: int) -> tuple[tuple[str, str, str, str], ...]:
    """(productNo, skuNo, verticalNo, horizontalNo) of bench SKUs 0 .. n-1."""
    rows: list[tuple[str, str, str, str]] = []
    product = 0
    while len(rows) < n:
        size = min(product % LARGEST_PRODUCT + 1, n - len(rows))
        for branch in range(size):
            horizontal_no = "" if size == 1 else f"{branch + 1:02d}"
            rows.append((f"P{product:06d}", code(len(rows)), "", horizontal_no))
        product += 1
    return tuple(rows)


def products(n: int, count: int = 0) -> list[dict[str, Any]]:
    """The bench catalogue as the sandbox takes it, every SKU at `count`."""
    found: dict[str, dict[str, Any]] = {}
    for product_no, sku_no, vertical_no, horizontal_no in layout(n):
        product = found.setdefault(product_no, {"productNo": product_no, "skus": []})
        product["skus"].append(
            {
                "skuNo": sku_no,
                "verticalNo": vertical_no,
                "horizontalNo": horizontal_no,
                "count": count,
            }
        )
    return list(found.values())


def product_count(n: int) -> int:
    return len({row[0] for row in layout(n)})


def update_rate() -> float:
    """Inventory updates a second per shop the client is configured for (as `for_store`)."""
    rates: Any = getattr(settings, "FUTURESHOP_RATE_LIMITS", None)
    if rates is None or rates == {}:
        rates = DEFAULT_RATE_LIMITS
    if isinstance(rates, Mapping):
        return float({**DEFAULT_RATE_LIMITS, **rates}[UPDATE_ENDPOINT])
    return float(rates)


def _credentials(url: str, store_id: str) -> dict[str, str]:
    return {
        "api_domain": urlsplit(url).netloc,
        "shop_key": store_id,
        "client_id": f"CI-{store_id}",
        "client_secret": f"CS-{store_id}",
    }


def store_add(url: str, store_id: str) -> Store:
    """Our store for the shop `store_id` (its shop key) of the sandbox at `url`."""
    return store_create(
        store_id=store_id,
        store_name=store_id,
        platform_type=Store.Platform.FUTURESHOP,
        api_config={"base_url": url},
        credentials=_credentials(url, store_id),
        actor=Actor.system("bench"),
    )


def bindings_create(store: Store, registration_ids: Mapping[str, int], n: int) -> None:
    """Bind registrations b000000.. of `store` to the bench catalogue's SKUs."""
    FutureshopBinding.objects.bulk_create(
        (
            FutureshopBinding(
                registration_id=registration_ids[sku_no.lower()],
                store=store,
                product_no=product_no,
                sku_no=sku_no,
                vertical_no=vertical_no,
                horizontal_no=horizontal_no,
            )
            for product_no, sku_no, vertical_no, horizontal_no in layout(n)
        ),
        batch_size=5000,
    )


# --- the full push: one shop in the sandbox process -------------------------------------


def push_shop_create(url: str, store_id: str, n: int) -> None:
    credentials = _credentials(url, store_id)
    answer = requests.post(
        f"{url}/_sandbox/shops",
        json={
            "shopKey": store_id,
            "clientId": credentials["client_id"],
            "clientSecret": credentials["client_secret"],
            "products": products(n),
        },
        timeout=600,
    )
    answer.raise_for_status()


def push_shape(n: int) -> str:
    sizes = ", ".join(str(size) for size in range(1, LARGEST_PRODUCT + 1))
    return (
        f"catalogue: {n:,} SKUs in {product_count(n):,} products of 1 to {LARGEST_PRODUCT} "
        f"SKUs (sizes cycling {sizes}; horizontalNo 01, 02, …; a single-SKU product has "
        f"no branch numbers)"
    )


def push_bound(n: int) -> tuple[int, float, str]:
    """(update calls needed, seconds they take at the configured rate, the report's text).

    The token has a rate limit of its own (endpoint "token"), so it adds no wait."""
    calls = math.ceil(product_count(n) / PRODUCTS_PER_REQUEST)
    rate = update_rate()
    return calls, calls / rate, f"ceil(products/{PRODUCTS_PER_REQUEST}) = {calls} at {rate:g}/s"


def push_calls(url: str) -> tuple[int, int]:
    """(update calls, calls answered 429) of the sandbox's call log."""
    return kit.call_counts(url, UPDATE_ENDPOINT)


def push_shown(url: str, store_id: str) -> dict[str, int]:
    """What the shop shows, by skuNo."""
    rows = requests.get(f"{url}/_sandbox/shops/{store_id}/stock", timeout=60).json()
    return {row["skuNo"]: row["count"] for row in rows["stock"]}


# --- the latency part: shops in an in-process sandbox -----------------------------------


class LatencyShops(kit.LoopbackShops):
    """futureshop shops in this process on a simulated clock (JST), served on loopback."""

    platform = PLATFORM
    quantity_max = QUANTITY_MAX

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        super().__init__(now, Sandbox, SandboxServer)

    def store_add(self, store_id: str) -> Store:
        credentials = _credentials(self.url, store_id)
        self.sandbox.shop_add(
            shop_key=store_id,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
        )
        return store_add(self.url, store_id)

    def catalogue(self, store: Store, registration_ids: Mapping[str, int], n: int) -> None:
        """The bench products in the shop, bound to the registrations."""
        bindings_create(store, registration_ids, n)
        for product in products(n):
            self.sandbox.product_add(store.store_id, product)

    def stock_set(self, store_id: str, i: int, quantity: int) -> None:
        self.sandbox.stock_set(store_id, {"skuNo": code(i), "count": quantity})

    def order(self, store_id: str, i: int) -> None:
        """A buyer orders one unit of SKU i."""
        self.sandbox.order_place(store_id, [{"skuNo": code(i), "count": 1}])

    def shown(self, store_id: str, i: int) -> int | None:
        return self.sandbox.stock_of(store_id, code(i))
