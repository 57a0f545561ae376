"""Polls that survive bad orders, reordered lines and a store whose first polls failed."""

import datetime as dt

import pytest
from django.utils import timezone

from events.actors import Actor
from events.models import InventoryEvent, InventorySnapshot
from stores.models import Store
from stores.services import store_credentials_set
from sync.models import OrderLine, PollState, QuarantinedOrder, SyncRun
from sync.orders import orders_poll

pytestmark = pytest.mark.django_db


def available(sku_id="tshirt-red-m"):
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def test_one_bad_order_is_set_aside_and_the_poll_goes_on(engine):
    bad = engine.order("store-a", units=2**31)
    good = engine.order("store-a", variant_id="Tshirt-RED-L", units=2)
    run = orders_poll(store_id="store-a")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.counts["quarantined"], run.counts["orders"]) == (1, 1)
    assert available("tshirt-red-l") == 10  # the good order counted
    assert available() == 25  # the bad one took nothing
    row = QuarantinedOrder.objects.get()
    assert (row.order_number, row.status) == (bad.order_number, "open")
    assert "asks for 2147483648 units" in row.reason
    assert row.snapshot["number"] == bad.order_number
    # Read again on every poll while open, never applied, never failing the poll.
    run = orders_poll(store_id="store-a")
    assert run.status == SyncRun.Status.SUCCEEDED
    row.refresh_from_db()
    assert row.attempts == 2
    assert not InventoryEvent.objects.filter(order_id=bad.order_number).exists()
    assert InventoryEvent.objects.filter(order_id=good.order_number).count() == 1


def test_an_order_that_applies_later_leaves_quarantine(engine):
    order = engine.order("store-a", units=1)
    QuarantinedOrder.objects.create(
        store_id="store-a", order_number=order.order_number, reason="earlier failure"
    )
    orders_poll(store_id="store-a")
    row = QuarantinedOrder.objects.get()
    assert (row.status, row.closed_at is not None) == ("resolved", True)
    assert available() == 24


def test_a_dismissed_order_is_not_read_again(engine):
    QuarantinedOrder.objects.create(
        store_id="store-a", order_number="999-dismissed", reason="x", status="dismissed"
    )
    orders_poll(store_id="store-a")
    reads = [
        call.body for call in engine.sandbox.calls_matching(shop_id="store-a", endpoint="order.get")
    ]
    assert all("999-dismissed" not in str(body) for body in reads)


def test_reordered_lines_keep_their_skus(engine):
    order = engine.sandbox.order_place(
        "store-a",
        [
            {"manageNumber": "tshirt-red", "variantId": "Tshirt-RED-M", "units": 1},
            {"manageNumber": "tshirt-red", "variantId": "Tshirt-RED-L", "units": 2},
        ],
        allow_oversell=True,
    )
    orders_poll(store_id="store-a")
    assert (available(), available("tshirt-red-l")) == (24, 10)
    # RMS lists the same lines the other way round on the next read.
    engine.sandbox.order("store-a", order.order_number).lines.reverse()
    orders_poll(store_id="store-a")
    assert (available(), available("tshirt-red-l")) == (24, 10)
    lines = OrderLine.objects.filter(order__order_number=order.order_number).order_by("position")
    assert [(line.listing["variant_id"], line.sku_id) for line in lines] == [
        ("Tshirt-RED-L", "tshirt-red-l"),
        ("Tshirt-RED-M", "tshirt-red-m"),
    ]
    assert all(line.line_id for line in lines)


def test_orders_placed_while_the_first_polls_fail_are_taken(engine):
    PollState.objects.filter(store_id="store-a").delete()
    Store.objects.filter(pk="store-a").update(credentials_encrypted="")  # not set up yet
    first = orders_poll(store_id="store-a")
    assert first.status == SyncRun.Status.FAILED
    origin = PollState.objects.get(store_id="store-a").origin
    assert origin is not None  # kept from the first attempt
    engine.sandbox.shops["store-a"]  # the shop exists; an order comes in meanwhile
    order = engine.order("store-a", units=3)

    store_credentials_set(
        store_id="store-a",
        credentials={"service_secret": "SP-a", "license_key": "SL-a"},
        actor=Actor.cli("test"),
    )
    assert orders_poll(store_id="store-a").status == SyncRun.Status.SUCCEEDED
    assert available() == 22
    assert InventoryEvent.objects.filter(order_id=order.order_number).count() == 1
    assert PollState.objects.get(store_id="store-a").origin == origin


def test_a_store_that_failed_for_hours_is_searched_from_its_last_good_cursor(engine):
    orders_poll(store_id="store-a")
    cursor = PollState.objects.get(store_id="store-a").cursor
    engine.sandbox.fault_add("order.search", "500", 50)
    later = timezone.now() + dt.timedelta(hours=3)
    assert orders_poll(store_id="store-a", now=later).status == SyncRun.Status.FAILED
    assert PollState.objects.get(store_id="store-a").cursor == cursor  # not moved on
    engine.sandbox.faults.clear()
    orders_poll(store_id="store-a", now=later + dt.timedelta(minutes=1))
    (search, *_) = [
        c.body for c in engine.sandbox.calls_matching(shop_id="store-a", endpoint="order.search")
    ][-1:]
    assert search["startDatetime"] <= cursor.astimezone(
        dt.timezone(dt.timedelta(hours=9))
    ).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_quarantine_page_lists_and_staff_dismiss_or_poll_again(
    engine, client, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group, User
    from django.urls import reverse

    from events.models import AuditLog
    from inventory_site.permissions import groups_ensure

    groups_ensure()
    engine.order("store-a", units=2**31)
    orders_poll(store_id="store-a")
    row = QuarantinedOrder.objects.get()
    QuarantinedOrder.objects.filter(pk=row.pk).update(reason="<script>x</script> too big")
    viewer = User.objects.create_user("v", password="pw", is_staff=True)
    viewer.groups.add(Group.objects.get(name="viewer"))
    client.force_login(viewer)
    page = client.get(reverse("reports:quarantine")).content.decode()
    assert row.order_number in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x" not in page
    assert "Dismiss" not in page
    act = reverse("reports:quarantine_act")
    assert client.post(act, {"action": "dismiss", "order": row.pk}).status_code == 403
    operator = User.objects.create_user("o", password="pw", is_staff=True)
    operator.groups.add(Group.objects.get(name="operator"))
    client.force_login(operator)
    dashboard = client.get(reverse("sync:dashboard")).content.decode()
    assert 'class="errornote">1</a>' in dashboard
    with django_capture_on_commit_callbacks(execute=True):
        client.post(act, {"action": "retry", "store": "store-a"})  # the poll runs inline
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("open", 2)
    client.post(act, {"action": "dismiss", "order": row.pk})
    row.refresh_from_db()
    assert (row.status, row.closed_by) == ("dismissed", "o")
    entry = AuditLog.objects.get(action="order.dismiss")
    assert entry.details == {"orders": [f"store-a:{row.order_number}"]}
    assert row.order_number not in client.get(reverse("reports:quarantine")).content.decode()


def test_reconcile_repairs_drift_unless_the_store_only_reports(engine):
    from events.models import AuditLog, PendingPush
    from sync.catalog import reconcile_run
    from sync.push import push_request, push_run

    push_request(store_id="store-b")
    push_run(store_id="store-b")
    engine.sandbox.stock_set("store-b", "tshirt-red", "Tshirt-RED-M", 99)  # behind our back
    run = reconcile_run(store_id="store-b")
    assert (run.counts["drift"], run.counts["repaired"]) == (1, 1)
    assert PendingPush.objects.filter(store_id="store-b", sku_id="tshirt-red-m").exists()
    audit = AuditLog.objects.get(action="push.repair")
    assert audit.details == {"store_id": "store-b", "skus": ["tshirt-red-m"], "count": 1}
    push_run(store_id="store-b")
    assert engine.shown("store-b") == 25  # our quantity again
    assert reconcile_run(store_id="store-b").counts["drift"] == 0
    Store.objects.filter(pk="store-b").update(reconcile_repairs=False)
    engine.sandbox.stock_set("store-b", "tshirt-red", "Tshirt-RED-M", 98)
    run = reconcile_run(store_id="store-b")
    assert run.counts["drift"] == 1
    assert "repaired" not in run.counts
    assert not PendingPush.objects.filter(store_id="store-b").exists()
