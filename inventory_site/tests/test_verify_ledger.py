"""`manage.py verify_ledger`: the ledger and the outbox after a restore, and
`--after-restore`: the first push of every store reads its stock back before writing."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.actors import Actor
from events.models import AuditLog, InventorySnapshot, PendingPush
from events.services import stock_adjust
from inventory_site.maintenance import AFTER_RESTORE, NO_LIVE_LEASE, NO_REGISTRATION
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory, StoreSkuFactory
from sync.models import JobLease, SyncRun
from sync.push import push_run, stores_with_due_pushes

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_a_consistent_ledger_and_outbox_pass():
    registration = StoreSkuFactory(sku=SkuFactory(sku_id="Mug-1", initial_stock=4))
    assert PendingPush.objects.filter(store=registration.store).exists()
    out = verify()
    assert "SKU(s) checked, 0 drift; 1 outbox row(s), 0 inconsistent" in out
    assert "The ledger and the outbox are consistent." in out


def test_a_snapshot_that_is_not_the_sum_of_its_events_fails_naming_the_sku():
    SkuFactory(sku_id="Mug-1", initial_stock=4)
    SkuFactory(sku_id="Mug-2", initial_stock=9)
    InventorySnapshot.objects.filter(sku_id="mug-2").update(internal_available=7)
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 snapshot\(s\) differ .*\(mug-2\)"):
        call_command("verify_ledger", stdout=out)
    assert "DRIFT mug-2: snapshot 7, sum of events 9" in out.getvalue()
    assert "mug-1" not in out.getvalue()


def test_outbox_rows_without_a_registration_or_a_live_push_are_named():
    store = StoreFactory(store_id="kyoto")
    orphan = SkuFactory(sku_id="Orphan")
    PendingPush.objects.create(store=store, sku=orphan)
    stuck = StoreSkuFactory(store=store, sku=SkuFactory(sku_id="Stuck")).sku
    PendingPush.objects.filter(sku=stuck).update(status="in_progress")
    out = StringIO()
    with pytest.raises(CommandError, match=r"2 outbox row\(s\) are inconsistent"):
        call_command("verify_ledger", stdout=out)
    assert f"OUTBOX kyoto / orphan (pending): {NO_REGISTRATION}" in out.getvalue()
    assert f"OUTBOX kyoto / stuck (in_progress): {NO_LIVE_LEASE}" in out.getvalue()

    # A push that holds the store's lease: its rows in progress are its own.
    PendingPush.objects.filter(sku=orphan).delete()
    JobLease.objects.create(
        key="push:kyoto", holder="worker-1", expires_at=timezone.now() + dt.timedelta(minutes=1)
    )
    assert "consistent" in verify()
    JobLease.objects.filter(key="push:kyoto").update(expires_at=timezone.now())  # it died
    with pytest.raises(CommandError, match="inconsistent"):
        verify()


def test_after_restore_every_store_reads_back_first_then_writes_only_what_differs(engine):
    sandbox = engine.sandbox
    # Each shop shows what we last told it, except store-b, whose staff changed one SKU.
    sandbox.stock_set("store-b", "tshirt-red", "Tshirt-RED-M", 7)
    # The backup was taken while a push of store-c ran, and one row had failed.
    PendingPush.objects.create(store_id="store-c", sku_id="towel-navy", status="in_progress")
    PendingPush.objects.create(store_id="store-a", sku_id="towel-navy", status="failed")

    out = verify("--after-restore", "--hold-minutes", "5")
    assert "after restore: store-a: 3 SKU(s) read back first" in out
    assert "1 row(s) left in progress by the backup released, 1 failed row(s) due again" in out
    assert "The ledger and the outbox are consistent." in out
    rows = PendingPush.objects.all()
    assert rows.count() == 9  # every registration of the three stores
    assert {row.status for row in rows} == {"pending"}
    assert all(row.verify_after is not None for row in rows)
    assert AuditLog.objects.filter(action="push.all", details__reason=AFTER_RESTORE).count() == 3

    # Held while each store's first poll records the orders placed since the backup...
    assert stores_with_due_pushes() == []
    # ... except a SKU whose stock changes meanwhile: due at once, still reading back first.
    stock_adjust(sku_id="towel-navy", quantity=-1, reason="broken", actor=Actor.cli("t"))
    assert stores_with_due_pushes() == ["store-a", "store-b", "store-c"]
    assert all(row.verify_after for row in PendingPush.objects.filter(sku_id="towel-navy"))

    later = timezone.now() + dt.timedelta(minutes=6)
    writes_before = len(sandbox.calls_matching(endpoint="inventory.bulk_upsert"))
    run_a = push_run(store_id="store-a", now=later)
    assert run_a.status == SyncRun.Status.SUCCEEDED
    # Two SKUs already right: settled by a read, no write; the towel changed: written.
    assert (run_a.counts["verified"], run_a.counts["pushed"]) == (2, 1)
    assert sandbox.calls_matching(shop_id="store-a", endpoint="inventory.bulk_get")
    assert engine.shown("store-a", "Towel-NAVY", "towel") == 2
    run_b = push_run(store_id="store-b", now=later)
    assert (run_b.counts["verified"], run_b.counts["pushed"]) == (1, 2)
    assert engine.shown("store-b") == 25  # ours again
    upserts = sandbox.calls_matching(endpoint="inventory.bulk_upsert")[writes_before:]
    sent = [
        variant["variantId"]
        for call in upserts
        for variant in call.body["inventories"]
        if call.shop_id == "store-a"
    ]
    assert sent == ["Towel-NAVY"]  # never the SKUs the store already showed right
    assert not PendingPush.objects.filter(store_id__in=["store-a", "store-b"]).exists()


def test_hold_minutes_must_not_be_negative():
    with pytest.raises(CommandError, match="0 or more"):
        verify("--after-restore", "--hold-minutes", "-1")
