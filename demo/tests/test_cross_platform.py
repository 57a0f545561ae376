"""End to end over HTTP, across platforms: the demo's three Rakuten shops, its futureshop
store and its eBay store share one pool. The three sandboxes serve their demo shops on
loopback; the engine polls and pushes through the adapters' real clients, exactly as the
scheduled tasks do."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.management.commands.load_demo_data import DEMO_STORES, EBAY_STORE, FUTURESHOP_STORE
from ebay import parse as ebay_parse
from ebay.sandbox import demo as eb_demo
from ebay.sandbox.server import SandboxServer as EbServer
from ebay.sandbox.state import DEFAULT_RATE_LIMITS as EB_ENDPOINTS
from ebay.sandbox.state import Sandbox as EbSandbox
from ebay.services import connection_save
from events.actors import Actor
from events.models import InventoryEvent, InventorySnapshot, PendingPush
from futureshop.sandbox import demo as fs_demo
from futureshop.sandbox.server import SandboxServer as FsServer
from futureshop.sandbox.state import ENDPOINTS as FS_ENDPOINTS
from futureshop.sandbox.state import Sandbox as FsSandbox
from rakuten.endpoints import DEFAULT_RATE_LIMITS as RMS_ENDPOINTS
from rakuten.sandbox import demo as rms_demo
from rakuten.sandbox.server import SandboxServer as RmsServer
from rakuten.sandbox.state import Sandbox as RmsSandbox
from stores.models import Store
from sync.models import PollState, SyncRun
from sync.orders import orders_poll
from sync.push import push_run
from sync.ratelimit import limiter

pytestmark = pytest.mark.django_db

FAST = 50.0
RAKUTEN_STORES = [store_id for store_id, *_ in DEMO_STORES]
SAFETY = {store_id: safety for store_id, _name, _url, safety in DEMO_STORES}
FS_STORE = FUTURESHOP_STORE[0]
FS_SHOP = fs_demo.DEMO_SHOP_KEY
EB_STORE = EBAY_STORE[0]
ALL_STORES = [*RAKUTEN_STORES, FS_STORE, EB_STORE]
# (our SKU, Rakuten item manage number); the futureshop demo shop sells it as skuNo = SKU.
SKUS = [("Tshirt-RED-M", "tshirt-red"), ("Mug-WHITE", "mug"), ("Towel-NAVY", "towel")]


@dataclass
class Demo:
    rms: RmsSandbox
    fs: FsSandbox
    eb: EbSandbox

    def shown(self, store_id: str, sku: str) -> int | None:
        if store_id == FS_STORE:
            return self.fs.stock_of(FS_SHOP, sku)
        if store_id == EB_STORE:
            row = self.eb.stock_of(eb_demo.DEMO_SELLER, sku)
            fixed = {o["availableQuantity"] for o in row["offers"] if o["format"] == "FIXED_PRICE"}
            return row["quantity"] if fixed == {row["quantity"]} else -1
        manage_number = dict(SKUS)[sku]
        return self.rms.stock_of(store_id, manage_number, sku)

    def pool(self, sku: str) -> int:
        return InventorySnapshot.objects.get(sku_id=sku.lower()).internal_available

    def poll(self, store_id: str) -> SyncRun:
        run = orders_poll(store_id=store_id)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        return run

    def push_all(self) -> None:
        for store_id in ALL_STORES:
            run = push_run(store_id=store_id, now=timezone.now() + dt.timedelta(hours=1))
            assert run.status == SyncRun.Status.SUCCEEDED, run.error

    def assert_everywhere(self, sku: str, pool: int) -> None:
        assert self.pool(sku) == pool
        shown = {store_id: self.shown(store_id, sku) for store_id in ALL_STORES}
        # Each store's safety stock, and the Tokyo shop's demo rule (0 below 2).
        wanted = {store_id: max(pool - SAFETY.get(store_id, 0), 0) for store_id in ALL_STORES}
        if pool < 2:
            wanted["demo-tokyo"] = 0
        assert shown == wanted


@pytest.fixture
def demo(settings) -> Iterator[Demo]:
    limiter.reset()
    rms = RmsSandbox(rate_limits=dict.fromkeys(RMS_ENDPOINTS, FAST), confirm_delay=0)
    rms_demo.demo_load(rms)
    fs = FsSandbox(rate_limits=dict.fromkeys(FS_ENDPOINTS, FAST))
    fs_demo.demo_load(fs)
    eb = EbSandbox(rate_limits=dict.fromkeys(EB_ENDPOINTS, FAST))
    eb_demo.demo_load(eb)
    rms_server, fs_server = RmsServer(rms).start(), FsServer(fs).start()
    eb_server = EbServer(eb).start()
    urls = {
        Store.Platform.RAKUTEN: rms_server.url,
        Store.Platform.FUTURESHOP: fs_server.url,
        Store.Platform.EBAY: eb_server.url,
    }
    try:
        call_command("load_demo_data", password="demo-test-password", stdout=io.StringIO())
        for store in Store.objects.all():
            store.api_config = {**store.api_config, "base_url": urls[store.platform_type]}
            store.save(update_fields=["api_config"])
            PollState.objects.create(store=store, origin=timezone.now() - dt.timedelta(minutes=5))
        # The seller's consent (ebay_demo_connect in the demo).
        grant = eb.grant_mint(eb_demo.DEMO_CLIENT_ID, eb_demo.DEMO_SELLER, None)
        connection_save(
            store=Store.objects.get(pk=EB_STORE),
            grant=ebay_parse.token(grant),
            actor=Actor.cli("test"),
            scopes=[],
        )
        world = Demo(rms, fs, eb)
        # Registering the demo SKUs queued a push of each to each store: send them.
        world.push_all()
        assert not PendingPush.objects.filter(status=PendingPush.Status.PENDING).exists()
        yield world
    finally:
        rms_server.stop()
        fs_server.stop()
        eb_server.stop()


def test_the_demo_starts_with_every_store_showing_the_pool(demo: Demo) -> None:
    for sku, _ in SKUS:
        demo.assert_everywhere(sku, demo.pool(sku))
    assert demo.pool("Tshirt-RED-M") == 25


def test_a_futureshop_order_lowers_the_rakuten_shops_and_its_cancellation_gives_back(
    demo: Demo,
) -> None:
    order = demo.fs.order_place(FS_SHOP, [{"skuNo": "Tshirt-RED-M", "count": 2}])
    assert demo.shown(FS_STORE, "Tshirt-RED-M") == 23  # futureshop lowers its own at once
    demo.poll(FS_STORE)
    assert demo.pool("Tshirt-RED-M") == 23
    demo.push_all()
    demo.assert_everywhere("Tshirt-RED-M", 23)  # Outlet keeps 2 back: it shows 21

    demo.fs.order_cancel(FS_SHOP, order.order_no)
    demo.poll(FS_STORE)
    demo.push_all()
    demo.assert_everywhere("Tshirt-RED-M", 25)


def test_a_rakuten_order_lowers_the_futureshop_store_and_its_cancellation_gives_back(
    demo: Demo,
) -> None:
    order = demo.rms.order_place(
        "demo-tokyo", [{"manageNumber": "mug", "variantId": "Mug-WHITE", "units": 3}]
    )
    demo.poll("demo-tokyo")
    demo.push_all()
    demo.assert_everywhere("Mug-WHITE", 37)
    assert demo.shown(FS_STORE, "Mug-WHITE") == 37

    demo.rms.order_progress("demo-tokyo", order.order_number, 900)
    demo.poll("demo-tokyo")
    demo.push_all()
    demo.assert_everywhere("Mug-WHITE", 40)


def test_orders_in_both_platforms_at_once_and_ten_replays_add_nothing(demo: Demo) -> None:
    demo.fs.order_place(FS_SHOP, [{"skuNo": "Towel-NAVY", "count": 1}])
    demo.rms.order_place(
        "demo-osaka", [{"manageNumber": "towel", "variantId": "Towel-NAVY", "units": 1}]
    )
    for store_id in ALL_STORES:
        demo.poll(store_id)
    demo.push_all()
    demo.assert_everywhere("Towel-NAVY", 1)
    events = InventoryEvent.objects.count()
    pushes = PendingPush.objects.count()

    for _ in range(10):
        for store_id in ALL_STORES:
            demo.poll(store_id)
        demo.push_all()
    assert InventoryEvent.objects.count() == events
    assert PendingPush.objects.count() == pushes
    demo.assert_everywhere("Towel-NAVY", 1)


def test_an_ebay_order_lowers_every_other_store_and_its_cancellation_gives_back(
    demo: Demo,
) -> None:
    order = demo.eb.order_place(eb_demo.DEMO_SELLER, [{"sku": "Mug-WHITE", "quantity": 4}])
    demo.poll(EB_STORE)
    assert demo.pool("Mug-WHITE") == 36
    demo.push_all()
    demo.assert_everywhere("Mug-WHITE", 36)
    assert demo.shown(FS_STORE, "Mug-WHITE") == 36
    assert demo.shown("demo-tokyo", "Mug-WHITE") == 36

    demo.eb.order_cancel(eb_demo.DEMO_SELLER, order.order_id)
    demo.poll(EB_STORE)
    demo.push_all()
    demo.assert_everywhere("Mug-WHITE", 40)


def test_a_rakuten_order_lowers_the_ebay_store(demo: Demo) -> None:
    demo.rms.order_place(
        "demo-osaka", [{"manageNumber": "tshirt-red", "variantId": "Tshirt-RED-M", "units": 5}]
    )
    demo.poll("demo-osaka")
    demo.push_all()
    demo.assert_everywhere("Tshirt-RED-M", 20)
    assert demo.shown(EB_STORE, "Tshirt-RED-M") == 20
