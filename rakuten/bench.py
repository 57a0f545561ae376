"""What the sync benchmarks need of Rakuten (`manage.py bench_sync`, `bench_recovery`).

The RMS sandbox as a process of its own, the bench catalogue (our SKU b000123 is variant
B000123 of item `item1`, 100 variants an item) in the sandbox and in RakutenBinding, and
the in-process sandbox the latency part runs its shops in. No engine or demo code here:
the command in `demo` picks this kit or futureshop's.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

import requests

from events.actors import Actor
from rakuten.models import RakutenBinding
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from rakuten.types import QUANTITY_MAX
from stores.models import Store
from stores.services import store_create
from sync.sandbox import bench as kit

PLATFORM = "rakuten"
DEFAULT_SKUS = 100_000
VARIANTS_PER_ITEM = 100
ROWS_PER_CALL = 400  # inventory.bulk_upsert
UPDATE_ENDPOINT = "inventory.bulk_upsert"


def sandbox_process() -> tuple[subprocess.Popen, str]:
    """`manage.py rakuten_sandbox` on a free port, with the documented rate limits."""
    return kit.sandbox_process("rakuten_sandbox", "RMS sandbox on")


_sandbox_process = sandbox_process  # bench_recovery's name for it


def code(i: int) -> str:
    """The platform's code of bench SKU i (our SKU id is its lower case)."""
    return f"B{i:06d}"


def item_of(i: int) -> str:
    return f"item{i // VARIANTS_PER_ITEM}"


def items(n: int) -> list[dict[str, Any]]:
    """n bench SKUs as RMS items of 100 variants, at quantity 0."""
    return [
        {
            "manageNumber": item_of(start),
            "variants": [
                {"variantId": code(i), "quantity": 0}
                for i in range(start, min(start + VARIANTS_PER_ITEM, n))
            ],
        }
        for start in range(0, n, VARIANTS_PER_ITEM)
    ]


def _credentials(store_id: str) -> dict[str, str]:
    return {"service_secret": f"SP-{store_id}", "license_key": f"SL-{store_id}"}


def store_add(url: str, store_id: str) -> Store:
    """Our store for a shop of the sandbox at `url`."""
    return store_create(
        store_id=store_id,
        store_name=store_id,
        api_config={"base_url": url},
        credentials=_credentials(store_id),
        actor=Actor.system("bench"),
    )


def bindings_create(store: Store, registration_ids: Mapping[str, int], n: int) -> None:
    """Bind registrations b000000.. of `store` to variants B000000.. of the bench items."""
    RakutenBinding.objects.bulk_create(
        (
            RakutenBinding(
                registration_id=registration_ids[code(i).lower()],
                store=store,
                manage_number=item_of(i),
                variant_id=code(i),
            )
            for i in range(n)
        ),
        batch_size=5000,
    )


# --- the full push: one shop in the sandbox process -------------------------------------


def push_shop_create(url: str, store_id: str, n: int) -> None:
    credentials = _credentials(store_id)
    answer = requests.post(
        f"{url}/_sandbox/shops",
        json={
            "shopId": store_id,
            "serviceSecret": credentials["service_secret"],
            "licenseKey": credentials["license_key"],
            "items": items(n),
        },
        timeout=300,
    )
    answer.raise_for_status()


def push_shape(n: int) -> str:
    """The catalogue as the report names it ("" keeps today's report)."""
    return ""


def push_bound(n: int) -> tuple[int, float, str]:
    """(calls needed, seconds they take at the rate limit, how the report writes it)."""
    calls = math.ceil(n / ROWS_PER_CALL)
    return calls, float(calls), f"ceil(N/{ROWS_PER_CALL}) = {calls}"


def push_calls(url: str) -> tuple[int, int]:
    """(update calls, calls answered 429) of the sandbox's call log."""
    return kit.call_counts(url, UPDATE_ENDPOINT)


def push_shown(url: str, store_id: str) -> dict[str, int]:
    """What the shop shows, by variant id."""
    rows = requests.get(f"{url}/_sandbox/shops/{store_id}/inventory", timeout=60).json()
    return {row["variantId"]: row["quantity"] for row in rows["inventory"]}


# --- the latency part: shops in an in-process sandbox -----------------------------------


class LatencyShops(kit.LoopbackShops):
    """RMS shops in this process on a simulated clock, served on loopback."""

    platform = PLATFORM
    quantity_max = QUANTITY_MAX

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        super().__init__(now, Sandbox, SandboxServer)

    def store_add(self, store_id: str) -> Store:
        credentials = _credentials(store_id)
        self.sandbox.shop_add(
            shop_id=store_id,
            service_secret=credentials["service_secret"],
            license_key=credentials["license_key"],
        )
        return store_add(self.url, store_id)

    def catalogue(self, store: Store, registration_ids: Mapping[str, int], n: int) -> None:
        """The bench items in the shop, bound to the registrations."""
        bindings_create(store, registration_ids, n)
        for item in items(n):
            self.sandbox.item_add(store.store_id, item)

    def stock_set(self, store_id: str, i: int, quantity: int) -> None:
        self.sandbox.stock_set(store_id, item_of(i), code(i), quantity)

    def order(self, store_id: str, i: int) -> None:
        """A buyer orders one unit of SKU i."""
        self.sandbox.order_place(
            store_id, [{"manageNumber": item_of(i), "variantId": code(i), "units": 1}]
        )

    def shown(self, store_id: str, i: int) -> int | None:
        return self.sandbox.stock_of(store_id, item_of(i), code(i))
