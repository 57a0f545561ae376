"""What the sync benchmarks need of eBay (`manage.py bench_sync --platform ebay`).

The eBay sandbox as a process of its own, the bench catalogue (our SKU b000123 is the eBay
SKU B000123 with one fixed-price offer), a connected seller, and the in-process sandbox the
latency part runs its sellers in. No engine or demo code here: the command in `demo` picks
this kit, Rakuten's or futureshop's.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

import requests
from django.conf import settings

from events.actors import Actor
from stores.models import Store
from stores.services import store_create
from sync.sandbox import bench as kit

from . import parse
from .client import DEFAULT_RATE_LIMITS
from .models import EbayBinding
from .sandbox.server import SandboxServer
from .sandbox.state import Sandbox
from .services import connection_save
from .types import BULK_UPDATE_MAX, QUANTITY_MAX, SCOPES

PLATFORM = "ebay"
DEFAULT_SKUS = 20_000
UPDATE_ENDPOINT = "stock.bulk_update"


def sandbox_process() -> tuple[subprocess.Popen, str]:
    """`manage.py ebay_sandbox` on a free port, with its own rate limits."""
    return kit.sandbox_process("ebay_sandbox", "eBay sandbox on")


def code(i: int) -> str:
    """The eBay SKU of bench SKU i (our SKU id is its lower case)."""
    return f"B{i:06d}"


def offer_id(i: int) -> str:
    return f"{9_000_000_000 + i}"


def items(n: int) -> list[dict[str, Any]]:
    """n bench SKUs as eBay inventory items, each with one fixed-price offer, at 0."""
    return [
        {
            "sku": code(i),
            "title": f"bench {i}",
            "quantity": 0,
            "offers": [{"offerId": offer_id(i), "availableQuantity": 0}],
        }
        for i in range(n)
    ]


def update_rate() -> float:
    """bulkUpdatePriceQuantity calls a second the client is configured for (as `for_store`)."""
    rates: Any = getattr(settings, "EBAY_RATE_LIMITS", None) or DEFAULT_RATE_LIMITS
    if isinstance(rates, Mapping):
        return float({**DEFAULT_RATE_LIMITS, **rates}[UPDATE_ENDPOINT])
    return float(rates)


def _credentials(store_id: str) -> dict[str, str]:
    return {
        "client_id": f"app-{store_id}",
        "client_secret": f"secret-{store_id}",
        "ru_name": f"ru-{store_id}",
    }


def _app_and_seller(post: Callable[[str, dict], Any], store_id: str, n: int) -> None:
    credentials = _credentials(store_id)
    post(
        "apps",
        {
            "clientId": credentials["client_id"],
            "clientSecret": credentials["client_secret"],
            "ruName": credentials["ru_name"],
            "acceptUrl": "http://127.0.0.1/ebay/callback/",
        },
    )
    post("sellers", {"username": store_id, "items": items(n)})


def _connect(store: Store, grant: dict[str, Any]) -> None:
    connection_save(
        store=store, grant=parse.token(grant), actor=Actor.system("bench"), scopes=list(SCOPES)
    )


def store_add(url: str, store_id: str) -> Store:
    """Our store for the seller `store_id` of the sandbox at `url`, connected to it."""
    store = store_create(
        store_id=store_id,
        store_name=store_id,
        platform_type=Store.Platform.EBAY,
        api_config={"base_url": url},
        credentials=_credentials(store_id),
        actor=Actor.system("bench"),
    )
    answer = requests.post(
        f"{url}/_sandbox/tokens",
        json={"clientId": _credentials(store_id)["client_id"], "seller": store_id},
        timeout=60,
    )
    answer.raise_for_status()
    _connect(store, answer.json())
    return store


def bindings_create(store: Store, registration_ids: Mapping[str, int], n: int) -> None:
    """Bind registrations b000000.. of `store` to the bench SKUs and their offers."""
    EbayBinding.objects.bulk_create(
        (
            EbayBinding(
                registration_id=registration_ids[code(i).lower()],
                store=store,
                ebay_sku=code(i),
                offer_ids=[offer_id(i)],
                marketplace_id="EBAY_US",
            )
            for i in range(n)
        ),
        batch_size=5000,
    )


# --- the full push: one seller in the sandbox process -------------------------------------


def push_shop_create(url: str, store_id: str, n: int) -> None:
    def post(path: str, body: dict) -> None:
        requests.post(f"{url}/_sandbox/{path}", json=body, timeout=600).raise_for_status()

    # The budget of revisions is a day's: a bench writes every listing once.
    _app_and_seller(post, store_id, n)


def push_shape(n: int) -> str:
    return f"catalogue: {n:,} eBay SKUs, one fixed-price offer each"


def push_bound(n: int) -> tuple[int, float, str]:
    """(update calls needed, seconds they take at the configured rate, the report's text)."""
    calls = math.ceil(n / BULK_UPDATE_MAX)
    rate = update_rate()
    return calls, calls / rate, f"ceil(N/{BULK_UPDATE_MAX}) = {calls} at {rate:g}/s"


def push_calls(url: str) -> tuple[int, int]:
    """(update calls, calls answered 429) of the sandbox's call log."""
    return kit.call_counts(url, UPDATE_ENDPOINT)


def push_shown(url: str, store_id: str) -> dict[str, int]:
    """What the seller's listings show, by eBay SKU (-1 where item and offer differ)."""
    rows = requests.get(f"{url}/_sandbox/sellers/{store_id}/stock", timeout=120).json()
    shown = {}
    for row in rows["stock"]:
        offers = {offer["availableQuantity"] for offer in row["offers"]}
        shown[row["sku"]] = row["quantity"] if offers <= {row["quantity"]} else -1
    return shown


# --- the latency part: sellers in an in-process sandbox -----------------------------------


class LatencyShops(kit.LoopbackShops):
    """eBay sellers in this process on a simulated clock, served on loopback."""

    platform = PLATFORM
    quantity_max = QUANTITY_MAX

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        super().__init__(now, Sandbox, SandboxServer)

    def store_add(self, store_id: str) -> Store:
        credentials = _credentials(store_id)
        self.sandbox.app_add(
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            ru_name=credentials["ru_name"],
            accept_url="http://127.0.0.1/ebay/callback/",
        )
        self.sandbox.seller_add(username=store_id)
        store = store_create(
            store_id=store_id,
            store_name=store_id,
            platform_type=Store.Platform.EBAY,
            api_config={"base_url": self.url},
            credentials=credentials,
            actor=Actor.system("bench"),
        )
        _connect(store, self.sandbox.grant_mint(credentials["client_id"], store_id, None))
        return store

    def catalogue(self, store: Store, registration_ids: Mapping[str, int], n: int) -> None:
        """The bench SKUs in the seller's inventory, bound to the registrations."""
        bindings_create(store, registration_ids, n)
        for item in items(n):
            self.sandbox.item_add(store.store_id, item)

    def stock_set(self, store_id: str, i: int, quantity: int) -> None:
        self.sandbox.stock_set(
            store_id, {"sku": code(i), "quantity": quantity, "offers": {offer_id(i): quantity}}
        )

    def order(self, store_id: str, i: int) -> None:
        """A buyer orders one unit of SKU i."""
        self.sandbox.order_place(store_id, [{"sku": code(i), "quantity": 1}])

    def shown(self, store_id: str, i: int) -> int | None:
        return self.sandbox.stock_of(store_id, code(i))["quantity"]
