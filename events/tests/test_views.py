import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from events.models import AuditLog, InventoryEvent, InventorySnapshot, PendingPush
from inventory_site.permissions import groups_ensure
from rakuten.models import RakutenOrderConfirmation
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory
from sync.models import Order, SyncRun

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_audit_log_filters(client, actor):
    member(client, "viewer")
    from events.services import audit_record

    audit_record(actor=actor, action="stock.adjust", details={"sku_id": "<i>x</i>"})
    audit_record(actor=actor, action="store.update", details={})
    page = client.get(
        reverse("reports:audit"), {"action": "stock.adjust", "user": "alice"}
    ).content.decode()
    assert "<td>stock adjusted</td>" in page
    assert "<td>store updated</td>" not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    assert (
        "<td>stock adjusted</td>"
        not in client.get(
            reverse("reports:audit"), {"from": "2000-01-01", "to": "2000-01-02"}
        ).content.decode()
    )


def test_oversell_and_reconcile_reports(client):
    member(client, "viewer")
    from events.actors import Actor
    from events.services import event_record, ledger_check_run

    SkuFactory(sku_id="Mug-1", initial_stock=1)
    event_record(
        sku_id="mug-1",
        quantity=-3,
        event_type="ORDER_RECEIVED",
        source="api",
        operator="t",
        order_id="o-1",
    )
    assert "o-1" in client.get(reverse("reports:oversell")).content.decode()
    # The page shows the last stored ledger check (it never sums the ledger itself).
    assert 'id="ledger-no-check"' in client.get(reverse("reports:reconcile")).content.decode()
    ledger_check_run(actor=Actor.system("tests"))
    assert 'id="ledger-ok"' in client.get(reverse("reports:reconcile")).content.decode()
    InventorySnapshot.objects.filter(pk="mug-1").update(internal_available=50)
    ledger_check_run(actor=Actor.system("tests"))
    page = client.get(reverse("reports:reconcile")).content.decode()
    assert 'id="ledger-drift"' in page
    assert "<td>50</td><td>-2</td>" in page
    store = StoreFactory(store_id="shop-9")
    SyncRun.objects.create(
        store=store,
        kind="reconcile",
        started_at=timezone.now() - timezone.timedelta(days=1),
        details={"drift": [{"sku_id": "old-sku", "platform": 1, "expected": 2}]},
    )
    SyncRun.objects.create(
        store=store,
        kind="reconcile",
        details={"drift": [{"sku_id": "mug-1", "platform": 7, "last_pushed": 5, "expected": 0}]},
    )
    page = client.get(reverse("reports:reconcile")).content.decode()
    assert "<td>mug-1</td><td>7</td><td>5</td><td>0</td>" in page  # the newest run only
    assert "old-sku" not in page


def test_failed_syncs_retry_one_and_all(client):
    store = StoreFactory()
    first = PendingPush.objects.create(
        store=store, sku=SkuFactory(), status="failed", attempts=8, last_error="boom"
    )
    second = PendingPush.objects.create(store=store, sku=SkuFactory(), status="failed", attempts=8)
    order = RakutenOrderConfirmation.objects.create(
        order=Order.objects.create(store=store, order_number="1-1", platform_status="100"),
        store=store,
        status="failed",
        attempts=8,
    )
    member(client, "viewer")
    page = client.get(reverse("reports:failed")).content.decode()
    assert "boom" in page
    assert 'id="retry-all"' not in page
    assert client.post(reverse("reports:failed_retry")).status_code == 403
    member(client, "operator")
    client.post(reverse("reports:failed_retry"), {"push": first.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("pending", "failed")
    client.post(reverse("reports:failed_retry"), {"order": order.pk})
    order.refresh_from_db()
    second.refresh_from_db()
    assert (order.status, order.attempts, second.status) == (
        "pending",
        0,
        "failed",
    )
    RakutenOrderConfirmation.objects.filter(pk=order.pk).update(status="failed")
    client.post(reverse("reports:failed_retry"))
    second.refresh_from_db()
    order.refresh_from_db()
    assert (second.status, order.status) == ("pending", "pending")
    retries = list(
        AuditLog.objects.filter(action="push.retry")
        .order_by("created_at")
        .values_list("details", flat=True)
    )
    assert retries == [
        {"pushes": [first.pk], "orders": [], "retried": 1},
        {"pushes": [], "orders": [order.pk], "retried": 1},
        {"pushes": "all", "orders": "all", "retried": 2},
    ]


def test_test_reset_only_in_test_mode_for_admins(client, settings):
    member(client, "operator")
    assert client.get(reverse("reports:test_reset")).status_code == 403
    member(client, "admin")
    settings.INVENTORY_TEST_MODE = False
    assert client.get(reverse("reports:test_reset")).status_code == 404
    settings.INVENTORY_TEST_MODE = True
    assert 'id="reset-form"' in client.get(reverse("reports:test_reset")).content.decode()
    client.post(reverse("reports:test_reset"))  # not confirmed: nothing happens
    assert not InventoryEvent.objects.filter(event_type="TEST_RESET").exists()
    client.post(reverse("reports:test_reset"), {"confirm": "reset"})
    assert (
        InventorySnapshot.objects.get(pk="ce1111").internal_available
        == settings.INVENTORY_TEST_RESET_STOCK
    )
    assert AuditLog.objects.filter(action="test.reset", user="admin-u").exists()
