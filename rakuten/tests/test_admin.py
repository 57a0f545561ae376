import pytest
from django.urls import reverse

from events.models import PendingPush
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory
from sync.models import Order, OrderLine, SyncRun

pytestmark = pytest.mark.django_db


def test_failed_pushes_can_be_retried_from_the_admin(admin_client):
    store = StoreFactory()
    sku = SkuFactory()
    failed = PendingPush.objects.create(
        store=store, sku=sku, status="failed", attempts=8, last_error="boom"
    )
    url = reverse("admin:events_pendingpush_changelist")
    page = admin_client.get(url, {"status__exact": "failed"})
    assert "boom" in page.content.decode()
    admin_client.post(url, {"action": "retry", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_running_runs_can_be_asked_to_stop(admin_client):
    run = SyncRun.objects.create(store=StoreFactory(), kind="sku_sync")
    done = SyncRun.objects.create(store=run.store, kind="poll", status="succeeded")
    admin_client.post(
        reverse("admin:sync_syncrun_changelist"),
        {"action": "cancel", "_selected_action": [run.pk, done.pk]},
    )
    run.refresh_from_db()
    done.refresh_from_db()
    assert run.cancel_requested
    assert not done.cancel_requested


def test_unmatched_lines_are_listed(admin_client):
    order = Order.objects.create(store=StoreFactory(), order_number="1-1", platform_status="100")
    OrderLine.objects.create(
        order=order,
        position=0,
        listing={"variant_id": "Lost-SKU"},
        listing_label="Lost-SKU",
        units=1,
    )
    OrderLine.objects.create(
        order=order,
        position=1,
        listing={"variant_id": "Found-SKU"},
        listing_label="Found-SKU",
        units=1,
        sku=SkuFactory(),
    )
    page = admin_client.get(
        reverse("admin:sync_orderline_changelist"), {"matched": "no"}
    ).content.decode()
    assert "Lost-SKU" in page
    assert "Found-SKU" not in page
    detail = admin_client.get(reverse("admin:sync_order_change", args=[order.pk]))
    assert "Found-SKU" in detail.content.decode()
