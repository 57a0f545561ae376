"""The demo's data: it starts consistent (every sandbox shop shows what Inventory Sync tells
its store), every demo SKU is registered in every demo store that sells it, and every run of
`load_demo_data` points the stores at the sandboxes' URLs given then."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.management.commands.load_demo_data import DEMO_STORES, EBAY_STORE, FUTURESHOP_STORE
from ebay.sandbox import demo as eb_demo
from ebay.sandbox.state import Sandbox as EbSandbox
from events.models import AuditAction, AuditLog, InventorySnapshot, PendingPush
from futureshop.sandbox import demo as fs_demo
from futureshop.sandbox.state import Sandbox as FsSandbox
from rakuten.sandbox import demo as rms_demo
from rakuten.sandbox.state import Sandbox as RmsSandbox
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.push import store_told

pytestmark = pytest.mark.django_db

RAKUTEN_STORES = [store_id for store_id, *_ in DEMO_STORES]
ALL_STORES = [*RAKUTEN_STORES, FUTURESHOP_STORE[0], EBAY_STORE[0]]


def _load(**urls: str) -> None:
    call_command("load_demo_data", password="pw-for-the-test", stdout=io.StringIO(), **urls)


@pytest.fixture
def sandboxes() -> tuple[RmsSandbox, FsSandbox, EbSandbox]:
    rms, fs, eb = RmsSandbox(), FsSandbox(), EbSandbox()
    rms_demo.demo_load(rms)
    fs_demo.demo_load(fs)
    eb_demo.demo_load(eb)
    return rms, fs, eb


def _shown(sandboxes: tuple, registration: StoreSku) -> int:
    rms, fs, eb = sandboxes
    platform = registration.store.platform_type
    if platform == Store.Platform.FUTURESHOP:
        return fs.stock_of(fs_demo.DEMO_SHOP_KEY, registration.futureshop.sku_no)
    if platform == Store.Platform.EBAY:
        return eb.stock_of(eb_demo.DEMO_SELLER, registration.ebay.ebay_sku)["quantity"]
    binding = registration.rakuten
    return rms.stock_of(registration.store_id, binding.manage_number, binding.variant_id)


def _sold(store_id: str) -> set[str]:
    """The codes (lowercase) the demo shop of a store sells."""
    if store_id == FUTURESHOP_STORE[0]:
        return {s["skuNo"].lower() for p in fs_demo.DEMO_PRODUCTS for s in p["skus"]}
    if store_id == EBAY_STORE[0]:
        return {item["sku"].lower() for item in eb_demo.DEMO_ITEMS}
    return {v["variantId"].lower() for i in rms_demo.demo_catalog(store_id) for v in i["variants"]}


def test_a_fresh_demo_opens_with_every_shop_showing_what_its_store_is_told(sandboxes):
    _load()
    pool = dict(InventorySnapshot.objects.values_list("sku_id", "internal_available"))
    assert pool["ce1111"] == 0  # the test product has no stock until someone gives it some
    registrations = StoreSku.objects.select_related("store").order_by("store_id", "sku_id")
    assert registrations.count() == 28
    shown = {(r.store_id, r.sku_id): _shown(sandboxes, r) for r in registrations}
    told = {}
    for store in Store.objects.all():
        mine = [r for r in registrations if r.store_id == store.store_id]
        by_id = store_told(store, mine)
        told.update({(r.store_id, r.sku_id): by_id[r.id] for r in mine})
    assert shown == told
    assert shown[("demo-outlet", "tshirt-red-m")] == 23  # the Outlet keeps 2 back
    # The gift set sells what its components allow: min(40 // 2, 3 // 1).
    assert shown[("demo-tokyo", "gift-mug-towel")] == 3
    assert shown[("demo-outlet", "gift-mug-towel")] == 1


def test_every_demo_sku_is_registered_in_every_demo_store_that_sells_it():
    _load()
    demo_skus = set(Sku.objects.values_list("sku_id", flat=True))
    for store_id in ALL_STORES:
        registered = set(
            StoreSku.objects.filter(store_id=store_id).values_list("sku_id", flat=True)
        )
        assert registered == _sold(store_id) & demo_skus, store_id
    # What a shop sells that the demo has no SKU for is left to the SKU sync.
    assert "bag-black" in _sold("demo-tokyo") - demo_skus


def test_every_run_points_the_stores_at_the_sandboxes_given_and_tells_them_the_stock_again():
    _load()
    assert {s.api_config["base_url"] for s in Store.objects.filter(pk__in=RAKUTEN_STORES)} == {
        rms_demo.SANDBOX_URL
    }
    PendingPush.objects.all().delete()  # as if every store had been told
    before = AuditLog.objects.filter(action=AuditAction.STORE_UPDATE).count()

    _load(
        rakuten_url="http://127.0.0.1:9765/",
        futureshop_url="http://127.0.0.1:9766",
        ebay_url="http://127.0.0.1:9767",
    )
    urls = dict(Store.objects.values_list("store_id", "api_config__base_url"))
    assert urls == {
        "demo-tokyo": "http://127.0.0.1:9765",
        "demo-osaka": "http://127.0.0.1:9765",
        "demo-outlet": "http://127.0.0.1:9765",
        "demo-futureshop": "http://127.0.0.1:9766",
        "demo-ebay": "http://127.0.0.1:9767",
    }
    assert Store.objects.get(pk="demo-tokyo").api_config["shop_url"] == "demo-tokyo.rakuten.co.jp"
    assert AuditLog.objects.filter(action=AuditAction.STORE_UPDATE).count() == before + 5
    # The sandboxes there may show anything: every store is told every SKU's stock again.
    due = PendingPush.objects.filter(
        status=PendingPush.Status.PENDING, next_attempt_at__lte=timezone.now()
    )
    assert due.count() == StoreSku.objects.count() == 28

    _load(
        rakuten_url="http://127.0.0.1:9765/",
        futureshop_url="http://127.0.0.1:9766",
        ebay_url="http://127.0.0.1:9767",
    )
    assert AuditLog.objects.filter(action=AuditAction.STORE_UPDATE).count() == before + 5
    assert PendingPush.objects.count() == 28  # the same rows, not more
