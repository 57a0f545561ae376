"""eBay stores of Inventory Sync pointed at the eBay sandbox, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from ebay import parse
from ebay.models import EbayBinding
from ebay.sandbox.server import SandboxServer
from ebay.sandbox.state import DEFAULT_RATE_LIMITS, Sandbox
from ebay.services import connection_save
from events.actors import Actor
from events.models import PendingPush
from skus.services import sku_create
from stores.services import store_create
from sync.models import PollState
from sync.ratelimit import limiter
from sync.registrations import store_sku_register
from sync.tests.contract import FaultKind, Operation

ENDPOINT_OF: dict[str, str] = {
    "push": "stock.bulk_update",
    "orders": "order.search",
    "stock": "inventory.bulk_get",
    "auth": "token",
}
FAST = dict.fromkeys(DEFAULT_RATE_LIMITS, 200.0)
# Our SKU id -> its eBay SKU (case kept) and starting stock.
SKUS = {"tshirt-red-m": ("Tshirt-RED-M", 25), "tshirt-red-l": ("Tshirt-RED-L", 12)}
SKUS["towel-navy"] = ("Towel-NAVY", 3)


class EbayWorld:
    """Three stores, each its own seller (and its own app, so that a fault can hit one
    store's token calls) in one eBay sandbox."""

    # On a 401 the client refreshes the access token and tries the call once more.
    calls_per_refused_push = 2

    def __init__(self, sandbox: Sandbox, url: str) -> None:
        self.sandbox = sandbox
        self.url = url
        self.store_ids = ("eb-a", "eb-b", "eb-c")
        self.sku_ids = tuple(SKUS)
        self.ebay_sku = {sku_id: code for sku_id, (code, _stock) in SKUS.items()}
        self.offers: dict[tuple[str, str], str] = {}
        actor = Actor.cli("contract")
        for sku_id, (code, stock) in SKUS.items():
            sku_create(sku_id=code, sku_name=sku_id, initial_stock=stock, actor=actor)
        for store_id in self.store_ids:
            self.store_add(store_id, actor)
            for sku_id, (code, stock) in SKUS.items():
                self.item_add(store_id, code, stock)
                store_sku_register(
                    store_id=store_id,
                    sku_id=sku_id,
                    ebay_sku=code,
                    offer_ids=self.offers[(store_id, code)],
                    actor=actor,
                )
            PollState.objects.create(store_id=store_id, origin=sandbox.clock())
        PendingPush.objects.all().delete()

    def store_add(self, store_id: str, actor: Actor) -> None:
        self.sandbox.app_add(
            client_id=f"app-{store_id}",
            client_secret=f"secret-{store_id}",
            ru_name=f"ru-{store_id}",
            accept_url="http://testserver/ebay/callback/",
        )
        self.sandbox.seller_add(username=store_id)
        store = store_create(
            store_id=store_id,
            store_name=store_id,
            platform_type="ebay",
            api_config={"base_url": self.url},
            credentials={
                "client_id": f"app-{store_id}",
                "client_secret": f"secret-{store_id}",
                "ru_name": f"ru-{store_id}",
            },
            actor=actor,
        )
        grant = self.sandbox.grant_mint(f"app-{store_id}", store_id, None)
        connection_save(store=store, grant=parse.token(grant), actor=actor, scopes=[])

    def item_add(self, store_id: str, code: str, quantity: int) -> None:
        item = self.sandbox.item_add(
            store_id,
            {"sku": code, "title": code, "quantity": quantity, "offers": [{}]},
        )
        offers = self.sandbox.seller(store_id).offers_of(item.sku)
        self.sandbox.stock_set(
            store_id, {"sku": code, "offers": {o.offer_id: quantity for o in offers}}
        )
        self.offers[(store_id, code)] = ",".join(o.offer_id for o in offers)

    def register(self, store_id: str, sku_id: str, n: int) -> None:
        code = f"Contract-{n:03d}"
        self.item_add(store_id, code, 0)
        store_sku_register(
            store_id=store_id,
            sku_id=sku_id,
            ebay_sku=code,
            offer_ids=self.offers[(store_id, code)],
            actor=Actor.cli("contract"),
        )
        self.ebay_sku[sku_id.lower()] = code

    def shown(self, store_id: str, sku_id: str) -> int | None:
        row = self.sandbox.stock_of(store_id, self.ebay_sku[sku_id])
        offers = {o["availableQuantity"] for o in row["offers"]}
        # We set both: the listing shows the offer's, the item holds its own.
        return row["quantity"] if offers <= {row["quantity"]} else -1

    def set_shown(self, store_id: str, sku_id: str, quantity: int) -> None:
        code = self.ebay_sku[sku_id]
        offers = self.offers[(store_id, code)].split(",")
        self.sandbox.stock_set(
            store_id,
            {"sku": code, "quantity": quantity, "offers": dict.fromkeys(offers, quantity)},
        )

    def place_order(self, store_id: str, sku_id: str, units: int) -> str:
        order = self.sandbox.order_place(
            store_id,
            [{"sku": self.ebay_sku[sku_id], "quantity": units}],
            allow_oversell=True,
        )
        return order.order_id

    def cancel_order(self, store_id: str, number: str) -> None:
        self.sandbox.order_cancel(store_id, number)

    def change_units(self, store_id: str, number: str, sku_id: str, units: int) -> None:
        self.sandbox.order_change(store_id, number, quantity=units, index=0, allow_oversell=True)

    def fault(self, store_id: str, kind: FaultKind, count: int, operation: Operation) -> None:
        caller = f"app-{store_id}" if operation == "auth" else store_id
        if kind == "401":
            calls = count if operation == "auth" else 2 * count
            self.sandbox.fault_add(ENDPOINT_OF[operation], "401", calls, shop_id=caller)
            return
        calls = count * (settings.EBAY_MAX_RETRIES + 1)
        self.sandbox.fault_add(
            ENDPOINT_OF[operation],
            kind,
            calls,
            shop_id=caller,
            retry_after=0.01 if kind == "429" else None,
        )

    def refuse_next_push_row(self, store_id: str, sku_id: str) -> str:
        # An eBay SKU the seller does not have (written past the binder's checks).
        EbayBinding.objects.filter(
            registration__store_id=store_id, registration__sku_id=sku_id
        ).update(ebay_sku=f"Gone-{sku_id}")
        return "Gone-"

    def calls(self, store_id: str, operation: Operation) -> int:
        caller = f"app-{store_id}" if operation == "auth" else store_id
        return len(self.sandbox.calls_matching(shop_id=caller, endpoint=ENDPOINT_OF[operation]))

    def garbage_success(self, store_id: str) -> None:
        self.sandbox.fault_add("stock.bulk_update", "malformed", 100, shop_id=store_id)

    def late_write(self, store_id: str) -> float:
        self.sandbox.hang_seconds = 3.0  # longer than the tests' read timeout (2 s)
        self.sandbox.fault_add("stock.bulk_update", "hang", 1, shop_id=store_id)
        return self.sandbox.hang_seconds

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()


@pytest.fixture
def ebay_server() -> Iterator[SandboxServer]:
    server = SandboxServer(Sandbox(rate_limits=FAST, hang_seconds=1.0)).start()
    yield server
    server.stop()


@pytest.fixture
def ebay_world(ebay_server: SandboxServer, db) -> EbayWorld:
    limiter.reset()
    return EbayWorld(ebay_server.sandbox, ebay_server.url)
