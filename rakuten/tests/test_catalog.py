"""SKU sync from a store, reconcile, schedules and the tasks that chain them."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from events.actors import Actor
from events.models import AuditLog, EventType, InventoryEvent, InventorySnapshot, PendingPush
from skus.models import Sku
from stores.models import Store, StoreSku
from sync import tasks
from sync.catalog import reconcile_run, sku_sync_run
from sync.models import PollState, SyncRun
from sync.orders import orders_poll
from sync.schedules import SCHEDULES, schedules_ensure

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.cli("test")


def test_sku_sync_creates_registers_and_flags(engine):
    sandbox = engine.sandbox
    sandbox.item_add(
        "store-a",
        {
            "manageNumber": "bag",
            "title": "Bag",
            "variants": [{"variantId": "Bag-BLACK", "quantity": 8}],
        },
    )
    sandbox.item_add(
        "store-a",
        {
            "manageNumber": "cup",
            "variants": [{"variantId": "C1", "merchantDefinedSkuId": "Cup-Blue", "quantity": 0}],
        },
    )
    sandbox.stock_set("store-a", "tshirt-red", "Tshirt-RED-L", 9)  # we hold 12
    run = sku_sync_run(store_id="store-a", actor=ACTOR)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["created"] == 2  # bag-black and cup-blue; ce1111 exists already
    bag = Sku.objects.get(pk="bag-black")
    assert bag.original_sku == "Bag-BLACK"
    assert InventorySnapshot.objects.get(pk="bag-black").internal_available == 8
    assert (
        InventoryEvent.objects.filter(sku_id="bag-black", event_type=EventType.INITIAL).count() == 1
    )
    cup = StoreSku.objects.get(store_id="store-a", sku_id="cup-blue").rakuten
    assert (cup.manage_number, cup.variant_id, cup.merchant_sku_id) == ("cup", "C1", "Cup-Blue")
    assert run.counts["differ"] >= 1
    assert "Tshirt-RED-L: store-a shows 9, Inventory Sync has 12 (not overwritten)" in run.log
    assert InventorySnapshot.objects.get(pk="tshirt-red-l").internal_available == 12
    assert Store.objects.get(pk="store-a").last_sku_sync_at is not None
    assert AuditLog.objects.filter(action="sku.sync", user="test").count() == 1
    again = sku_sync_run(store_id="store-a", actor=ACTOR)
    assert again.counts.get("created", 0) == 0
    assert again.counts.get("registered", 0) == 0


def test_sku_sync_of_a_large_catalogue_pages_and_can_be_cancelled(engine):
    for i in range(150):
        engine.sandbox.item_add(
            "store-b",
            {
                "manageNumber": f"item{i:03d}",
                "variants": [{"variantId": f"V{i:03d}", "quantity": i}],
            },
        )
    run = SyncRun.objects.create(
        store_id="store-b", kind=SyncRun.Kind.SKU_SYNC, cancel_requested=True
    )
    result = sku_sync_run(store_id="store-b", actor=ACTOR, run=run)
    assert result.status == SyncRun.Status.CANCELLED
    assert result.counts["items"] == 100  # stopped after the first page
    full = sku_sync_run(store_id="store-b", actor=ACTOR)
    assert full.counts["items"] == 153
    assert full.details["total"] == 153
    assert Sku.objects.filter(sku_id__startswith="v").count() == 150


def test_sku_sync_without_the_item_api_fails_clearly(engine):
    engine.sandbox.shops["store-c"].item_api = False
    run = sku_sync_run(store_id="store-c", actor=ACTOR)
    assert run.status == SyncRun.Status.FAILED
    assert "ES04-01" in run.error


def test_reconcile_lists_drift(engine):
    call_command("push_inventory", "--store", "store-b", "--all")
    engine.sandbox.stock_set("store-b", "towel", "Towel-NAVY", 7)  # someone edited RMS by hand
    run = reconcile_run(store_id="store-b")
    assert run.details["drift"] == [
        {"sku_id": "towel-navy", "platform": 7, "last_pushed": 3, "expected": 3}
    ]
    engine.sandbox.shops["store-b"].license_expires_at = timezone.now() - dt.timedelta(hours=1)
    assert reconcile_run(store_id="store-b").status == SyncRun.Status.FAILED


def test_schedules_are_created_once(engine):
    schedules_ensure()
    schedules_ensure()
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(spec.name for spec in SCHEDULES)
    nightly = Schedule.objects.get(func="sync.tasks.sku_sync_all")
    assert nightly.schedule_type == Schedule.DAILY
    assert nightly.next_run > timezone.now()


def test_the_minute_schedule_polls_due_stores_and_pushes(engine):
    engine.order("store-a", units=2)
    Store.objects.filter(pk="store-b").update(
        api_config={**Store.objects.get(pk="store-b").api_config, "poll_interval_minutes": 60}
    )
    PollState.objects.filter(store_id="store-b").update(last_poll_at=timezone.now())
    assert tasks.poll_due() == ["store-a", "store-c"]  # inline in tests (sync)
    # The poll of store-a recorded the order and pushed at once.
    assert engine.shown("store-b") == 23
    assert PendingPush.objects.count() == 0
    assert tasks.push_due() == []
    assert tasks.followups_due() == []
    assert sorted(tasks.reconcile_all()) == ["store-a", "store-b", "store-c"]
    assert len(tasks.sku_sync_all()) == 3
    assert len(tasks.sweep_all()) == 3


@pytest.mark.postgres
def test_two_pollers_started_together_do_not_both_run(engine):
    barrier = threading.Barrier(2)
    results = []

    def poll():
        barrier.wait()
        try:
            results.append(orders_poll(store_id="store-a").status)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [SyncRun.Status.SKIPPED, SyncRun.Status.SUCCEEDED]


def test_sync_and_poll_commands(engine, capsys):
    from django.core.management.base import CommandError

    call_command("sync_skus", "--store", "store-a")
    out = capsys.readouterr().out
    assert "store-a: SKU sync succeeded" in out
    assert "variants" in out
    order = engine.order("store-a", units=1)
    since = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    call_command("poll_orders", "--store", "store-a", "--since", since)
    assert InventoryEvent.objects.filter(order_id=order.order_number).count() == 1
    call_command("poll_orders", "--store", "store-a", "--since", "2026-11-23T09:00")  # JST assumed
    with pytest.raises(CommandError, match="not a datetime"):
        call_command("poll_orders", "--store", "store-a", "--since", "yesterday")
    with pytest.raises(CommandError, match="No store"):
        call_command("sync_skus", "--store", "nope")
