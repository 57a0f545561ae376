"""FutureshopAdapter passes the adapter contract (sync/tests/contract.py) against the
futureshop sandbox (futureshop/sandbox/), over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from events.actors import Actor
from events.models import PendingPush
from futureshop.models import FutureshopBinding
from futureshop.sandbox.server import SandboxServer
from futureshop.sandbox.state import Sandbox
from skus.services import sku_create
from stores.services import store_create
from sync.models import PollState
from sync.ratelimit import limiter
from sync.registrations import store_sku_register
from sync.tests.contract import AdapterContract, FaultKind, Operation

pytestmark = pytest.mark.django_db

ENDPOINT_OF: dict[str, str] = {
    "push": "inventory.update",
    "orders": "shipping.search",
    "stock": "inventory.search",
    "auth": "token",
}
FAST = dict.fromkeys(("token", "inventory.update", "inventory.search"), 50.0) | {
    "shipping.search": 50.0,
    "order.get": 50.0,
}
SKUS = {"tshirt-red-m": ("tshirt", "01", 25), "tshirt-red-l": ("tshirt", "02", 12)}
SKUS["towel-navy"] = ("towel", "", 3)
CONTRACT_PRODUCT = "contract"


class FutureshopWorld:
    """Three stores, each its own shop in one futureshop sandbox."""

    # On a 401 the client gets a new token and tries the call once more.
    calls_per_refused_push = 2

    def __init__(self, sandbox: Sandbox, url: str) -> None:
        self.sandbox = sandbox
        self.store_ids = ("fs-a", "fs-b", "fs-c")
        self.sku_ids = tuple(SKUS)
        self.sku_no = {sku_id: sku_id.upper() for sku_id in SKUS}
        actor = Actor.cli("contract")
        for sku_id, (_product, _horizontal, stock) in SKUS.items():
            sku_create(sku_id=sku_id.upper(), sku_name=sku_id, initial_stock=stock, actor=actor)
        for store_id in self.store_ids:
            products: dict[str, list[dict]] = {}
            for sku_id, (product, horizontal, stock) in SKUS.items():
                products.setdefault(product, []).append(
                    {"skuNo": self.sku_no[sku_id], "horizontalNo": horizontal, "count": stock}
                )
            sandbox.shop_add(
                shop_key=f"key-{store_id}",
                client_id=f"id-{store_id}",
                client_secret=f"secret-{store_id}",
                products=[{"productNo": p, "skus": skus} for p, skus in products.items()],
            )
            store_create(
                store_id=store_id,
                store_name=store_id,
                platform_type="futureshop",
                api_config={"base_url": url},
                credentials={
                    "api_domain": "sandbox.futureshop.test",
                    "shop_key": f"key-{store_id}",
                    "client_id": f"id-{store_id}",
                    "client_secret": f"secret-{store_id}",
                },
                actor=actor,
            )
            for sku_id, (product, horizontal, _stock) in SKUS.items():
                store_sku_register(
                    store_id=store_id,
                    sku_id=sku_id,
                    product_no=product,
                    sku_no=self.sku_no[sku_id],
                    vertical_no="",
                    horizontal_no=horizontal,
                    actor=actor,
                )
            PollState.objects.create(store_id=store_id, origin=sandbox.clock())
        PendingPush.objects.all().delete()

    def _shop(self, store_id: str) -> str:
        return f"key-{store_id}"

    def register(self, store_id: str, sku_id: str, n: int) -> None:
        sku_no = f"Contract-{n:03d}"
        product = f"{CONTRACT_PRODUCT}{n:03d}"
        self.sandbox.product_add(
            self._shop(store_id), {"productNo": product, "skus": [{"skuNo": sku_no, "count": 0}]}
        )
        store_sku_register(
            store_id=store_id,
            sku_id=sku_id,
            product_no=product,
            sku_no=sku_no,
            actor=Actor.cli("contract"),
        )
        self.sku_no[sku_id.lower()] = sku_no

    def shown(self, store_id: str, sku_id: str) -> int | None:
        return self.sandbox.stock_of(self._shop(store_id), self.sku_no[sku_id])

    def set_shown(self, store_id: str, sku_id: str, quantity: int) -> None:
        self.sandbox.stock_set(
            self._shop(store_id), {"skuNo": self.sku_no[sku_id], "count": quantity}
        )

    def place_order(self, store_id: str, sku_id: str, units: int) -> str:
        order = self.sandbox.order_place(
            self._shop(store_id),
            [{"skuNo": self.sku_no[sku_id], "count": units}],
            allow_oversell=True,
        )
        return order.order_no

    def cancel_order(self, store_id: str, number: str) -> None:
        self.sandbox.order_cancel(self._shop(store_id), number)

    def change_units(self, store_id: str, number: str, sku_id: str, units: int) -> None:
        self.sandbox.order_change(
            self._shop(store_id),
            number,
            sku_no=self.sku_no[sku_id],
            count=units,
            allow_oversell=True,
        )

    def fault(self, store_id: str, kind: FaultKind, count: int, operation: Operation) -> None:
        shop = self._shop(store_id)
        if kind == "401":
            # The client gets a new token once on a 401 and tries again: refuse both.
            calls = count if operation == "auth" else 2 * count
            self.sandbox.fault_add(ENDPOINT_OF[operation], "401", calls, shop_id=shop)
            return
        calls = count * (settings.FUTURESHOP_MAX_RETRIES + 1)
        self.sandbox.fault_add(
            ENDPOINT_OF[operation],
            kind,
            calls,
            shop_id=shop,
            retry_after=0.01 if kind == "429" else None,
        )

    def refuse_next_push_row(self, store_id: str, sku_id: str) -> str:
        # A product futureshop does not know (written past the binder's checks).
        FutureshopBinding.objects.filter(
            registration__store_id=store_id, registration__sku_id=sku_id
        ).update(product_no=f"gone-{sku_id}")
        return "ProductNotFound"

    def calls(self, store_id: str, operation: Operation) -> int:
        return len(
            self.sandbox.calls_matching(
                shop_id=self._shop(store_id), endpoint=ENDPOINT_OF[operation]
            )
        )

    def garbage_success(self, store_id: str) -> None:
        self.sandbox.fault_add("inventory.update", "malformed", 100, shop_id=self._shop(store_id))

    def late_write(self, store_id: str) -> float:
        self.sandbox.hang_seconds = 3.0  # longer than the tests' read timeout (2 s)
        self.sandbox.fault_add("inventory.update", "hang", 1, shop_id=self._shop(store_id))
        return self.sandbox.hang_seconds

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()


@pytest.fixture
def fs_server() -> Iterator[SandboxServer]:
    server = SandboxServer(Sandbox(rate_limits=FAST, hang_seconds=1.0)).start()
    yield server
    server.stop()


class TestFutureshopContract(AdapterContract):
    @pytest.fixture
    def world(self, fs_server: SandboxServer, db) -> FutureshopWorld:
        limiter.reset()
        return FutureshopWorld(fs_server.sandbox, fs_server.url)
