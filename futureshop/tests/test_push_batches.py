"""A futureshop push counts products, not rows: each call carries up to `batch_size`
products, each product once with every due SKU of it."""

from __future__ import annotations

import pytest

from events.actors import Actor
from events.models import PendingPush
from events.services import stock_adjust
from sync.models import SyncRun
from sync.push import push_request, push_run
from sync.ratelimit import limiter

from .test_contract import FutureshopWorld, fs_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(fs_server, db) -> FutureshopWorld:  # noqa: F811
    limiter.reset()
    return FutureshopWorld(fs_server.sandbox, fs_server.url)


def test_a_push_sends_one_entry_per_product_and_counts_products_per_call(world, monkeypatch):
    from futureshop.adapter import FutureshopAdapter

    monkeypatch.setattr(FutureshopAdapter, "batch_size", 1)
    store_id = world.store_ids[0]
    for sku_id in ("tshirt-red-m", "tshirt-red-l", "towel-navy"):
        stock_adjust(sku_id=sku_id, quantity=-1, reason="count", actor=Actor.cli("test"))
    assert PendingPush.objects.filter(store_id=store_id).count() == 3
    run = push_run(store_id=store_id)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["pushed"] == 3
    calls = world.sandbox.calls_matching(shop_id=f"key-{store_id}", endpoint="inventory.update")
    # Two products (tshirt with two SKUs, towel): two calls, the shirt's SKUs together.
    sent = [
        [
            (
                product["productNo"],
                [row["count"] for row in product["inventoryInfo"]["regular"]["inventoryList"]],
            )
            for product in call.body["productList"]
        ]
        for call in calls
    ]
    # Most urgent first: the towel (2), then the shirt with its two SKUs, lowest first.
    assert sent == [[("towel", [2])], [("tshirt", [11, 24])]]
    assert [world.shown(store_id, s) for s in ("tshirt-red-m", "tshirt-red-l", "towel-navy")] == [
        24,
        11,
        2,
    ]


def test_the_most_urgent_product_goes_first(world, monkeypatch):
    from futureshop.adapter import FutureshopAdapter

    monkeypatch.setattr(FutureshopAdapter, "batch_size", 1)
    store_id = world.store_ids[0]
    stock_adjust(sku_id="tshirt-red-l", quantity=-12, reason="sold out", actor=Actor.cli("t"))
    push_request(store_id=store_id)
    push_run(store_id=store_id)
    calls = world.sandbox.calls_matching(shop_id=f"key-{store_id}", endpoint="inventory.update")
    # The shirt has a SKU at 0: it is sent before the towel (3).
    assert [call.body["productList"][0]["productNo"] for call in calls] == ["tshirt", "towel"]
