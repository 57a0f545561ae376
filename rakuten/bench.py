"""What the sync benchmarks need of Rakuten (`manage.py bench_sync`, `bench_recovery`,
`bench_poll`).

The RMS sandbox as a process of its own, the bench catalogue (our SKU b000123 is variant
B000123 of item `item1`, 100 variants an item) in the sandbox and in RakutenBinding, the
in-process sandbox the latency part runs its shops in, and the shops of the poll
benchmark (a large order book built here, then changed and watched over the control
API). No engine or demo code here: the command in `demo` picks this kit or futureshop's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import requests

from events.actors import Actor
from rakuten import parse
from rakuten.adapter import order_snapshot
from rakuten.client import GET_ORDER_VERSION
from rakuten.endpoints import DEFAULT_RATE_LIMITS
from rakuten.models import RakutenBinding
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from rakuten.types import JST, ORDER_BATCH, QUANTITY_MAX
from stores.models import Store
from stores.services import store_create
from sync.adapters import OrderSnapshot
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


def store_add(url: str, store_id: str, api_config: Mapping[str, Any] | None = None) -> Store:
    """Our store for a shop of the sandbox at `url` (`api_config`: more settings)."""
    return store_create(
        store_id=store_id,
        store_name=store_id,
        api_config={**(api_config or {}), "base_url": url},
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


# --- the poll benchmark: a large order book, then changes and watching --------------------


def rate_floor(calls: Mapping[str, int]) -> float:
    """Seconds a run of these calls must last at the rate limits: on each endpoint every
    call after the first waits for its one-second window (calls of different endpoints
    may overlap)."""
    return sum(
        max(0, n - 1) / DEFAULT_RATE_LIMITS.get(endpoint, 1) for endpoint, n in calls.items()
    )


class PollShops:
    """RMS shops for `bench_poll`. The order book is built in this process on a clock the
    bench moves (orders placed and moved days ago, by the sandbox's own rules), loaded
    whole into the sandbox process (PUT /_sandbox/state), then changed and watched through
    that process's control API, as a test or a buyer would."""

    platform = PLATFORM

    def __init__(self, url: str, now: dt.datetime) -> None:
        self.url = url
        self.control = f"{url}/_sandbox"
        self.at = now
        self.sandbox = Sandbox(clock=lambda: self.at.astimezone(JST).replace(microsecond=0))
        self.http = requests.Session()

    # --- building, in this process ---------------------------------------------------

    def store_add(self, store_id: str, api_config: Mapping[str, Any] | None = None) -> Store:
        credentials = _credentials(store_id)
        self.sandbox.shop_add(
            shop_id=store_id,
            service_secret=credentials["service_secret"],
            license_key=credentials["license_key"],
        )
        return store_add(self.url, store_id, api_config)

    def catalogue(self, store_id: str, n: int) -> None:
        """Bench SKUs 0..n-1 as items of the shop (stock set later with `stock_set`)."""
        for item in items(n):
            self.sandbox.item_add(store_id, item)

    def backdated(
        self,
        store_id: str,
        lines: Sequence[tuple[int, int]],
        at: dt.datetime,
        moves: Sequence[tuple[int, dt.datetime]] = (),
    ) -> str:
        """An order of (SKU, units) lines placed at `at`, then moved to each progress at its
        time; its number."""
        self.at = at
        order = self.sandbox.order_place(
            store_id,
            [{"manageNumber": item_of(i), "variantId": code(i), "units": u} for i, u in lines],
            allow_oversell=True,
        )
        for progress, when in moves:
            self.at = when
            self.sandbox.order_progress(store_id, order.order_number, progress)
        return order.order_number

    def snapshots(self, store_id: str) -> Iterator[OrderSnapshot]:
        """Every order of the shop as a poll would see it: the sandbox's getOrder answer,
        read by the client's parser and the adapter's ``order_snapshot``."""
        shop = self.sandbox.shop(store_id)
        numbers = list(shop.orders)
        for start in range(0, len(numbers), ORDER_BATCH):
            body = self.sandbox.order_get(
                shop,
                {
                    "orderNumberList": numbers[start : start + ORDER_BATCH],
                    "version": GET_ORDER_VERSION,
                },
            )
            for order in parse.orders_result(body).orders:
                yield order_snapshot(order)

    def stock_set(self, store_id: str, i: int, quantity: int) -> None:
        self.sandbox.stock_set(store_id, item_of(i), code(i), quantity)

    def load(self) -> int:
        """Replace the sandbox process's state with the one built here; its size in bytes."""
        payload = json.dumps(self.sandbox.dump(), separators=(",", ":")).encode()
        self.http.put(
            f"{self.control}/state",
            data=payload,
            headers={"Content-Type": "application/json"},
            timeout=600,
        ).raise_for_status()
        return len(payload)

    # --- the sandbox process, through its control API ---------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, f"{self.control}{path}", json=body, timeout=120)
        answer.raise_for_status()
        return answer.json()

    def clock_set(self, at: dt.datetime | None) -> None:
        """Stop the sandbox's clock at a simulated moment, or let it run (None)."""
        self._call("PUT", "/clock", {"now": at.isoformat() if at else None})

    def order(self, store_id: str, lines: Sequence[tuple[int, int]]) -> str:
        """A buyer orders (SKU, units) lines now; the order's number."""
        placed = self._call(
            "POST",
            f"/shops/{store_id}/orders",
            {
                "lines": [
                    {"manageNumber": item_of(i), "variantId": code(i), "units": u} for i, u in lines
                ],
                "allowOversell": True,
            },
        )
        return placed["orderNumber"]

    def progress(self, store_id: str, number: str, progress: int) -> None:
        self._call(
            "POST", f"/shops/{store_id}/orders/{number}/progress", {"orderProgress": progress}
        )

    def units(self, store_id: str, number: str, line: int, units: int) -> None:
        self._call(
            "POST", f"/shops/{store_id}/orders/{number}/units", {"line": line, "units": units}
        )

    def holdings(self, store_id: str) -> dict[str, dict[str, int]]:
        """What each order of the shop holds now, by our SKU id: a line's units unless it was
        removed, nothing once the order is cancelled (the ledger must net to this)."""
        return self.order_states(store_id)[0]

    def order_states(self, store_id: str) -> tuple[dict[str, dict[str, int]], set[str]]:
        """``holdings`` and the numbers of the cancelled orders, from one read of the shop."""
        held: dict[str, dict[str, int]] = {}
        cancelled: set[str] = set()
        for order in self._call("GET", f"/shops/{store_id}/orders")["orders"]:
            units: Counter[str] = Counter()
            gone = order["orderProgress"] == 900
            if gone:
                cancelled.add(order["orderNumber"])
            for line in order["lines"]:
                units[line["variantId"].lower()] += 0 if line["deleted"] or gone else line["units"]
            held[order["orderNumber"]] = dict(units)
        return held, cancelled

    def shown(self, store_id: str) -> dict[str, int]:
        """What the shop shows, by variant id."""
        return push_shown(self.url, store_id)

    def calls(self, store_id: str) -> tuple[Counter[str], int]:
        """(calls answered by endpoint, of which answered 429) since the log was cleared."""
        log = self._call("GET", f"/calls?shop={store_id}")["calls"]
        return Counter(c["endpoint"] for c in log), sum(1 for c in log if c["status"] == 429)

    def calls_clear(self) -> None:
        self._call("DELETE", "/calls")
