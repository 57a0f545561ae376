"""The sync engine end to end: sandbox orders -> ledger events -> pushes to every store."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.models import EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.services import failed_retry
from rakuten.confirmations import orders_confirm
from rakuten.models import RakutenBinding, RakutenOrderConfirmation
from skus.tests.factories import SkuFactory
from stores.models import Store, StoreSku
from sync.leases import job_lease, lease_acquire
from sync.models import Order, OrderLine, OrderSkuState, SyncRun
from sync.orders import orders_poll
from sync.push import push_request, push_run
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db(transaction=True)

LATER = dt.timedelta(hours=2)


def available(sku_id="tshirt-red-m"):
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def order_events(order_number=None):
    events = InventoryEvent.objects.filter(event_type__startswith="ORDER_")
    if order_number:
        events = events.filter(order_id=order_number)
    return list(events.order_by("created_at").values_list("event_type", "quantity"))


def push_all(now=None):
    return {
        store_id: push_run(store_id=store_id, now=now)
        for store_id in ("store-a", "store-b", "store-c")
    }


def test_an_order_in_one_store_lowers_the_stock_every_store_shows(engine):
    Store.objects.filter(pk="store-c").update(safety_stock=2)
    order = engine.order("store-a", units=3)
    assert engine.shown("store-a") == 22  # Rakuten lowered its own stock
    assert engine.shown("store-b") == 25
    run = orders_poll(store_id="store-a")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["events"] == 1
    assert available() == 22
    assert order_events(order.order_number) == [(EventType.ORDER_RECEIVED, -3)]
    runs = push_all()
    assert {r.status for r in runs.values()} == {SyncRun.Status.SUCCEEDED}
    assert (engine.shown("store-a"), engine.shown("store-b"), engine.shown("store-c")) == (
        22,
        22,
        20,
    )
    assert PendingPush.objects.count() == 0
    registration = StoreSku.objects.get(store_id="store-c", sku_id="tshirt-red-m")
    assert registration.last_pushed_quantity == 20


def test_replaying_a_poll_ten_times_adds_nothing(engine):
    order = engine.order("store-a", units=2)
    for _ in range(10):
        orders_poll(store_id="store-a")
        orders_poll(store_id="store-a", sweep=True)
    assert order_events(order.order_number) == [(EventType.ORDER_RECEIVED, -2)]
    assert available() == 23


def test_an_order_first_seen_after_100_takes_its_units_once(engine):
    order = engine.order("store-b", units=4)
    engine.sandbox.order_progress("store-b", order.order_number, 300)
    orders_poll(store_id="store-b")
    engine.sandbox.order_progress("store-b", order.order_number, 500)
    orders_poll(store_id="store-b")
    orders_poll(store_id="store-b", sweep=True)
    assert order_events(order.order_number) == [
        (EventType.ORDER_RECEIVED, -4),
        (EventType.ORDER_CONFIRMED, 0),
    ]
    assert Order.objects.get(order_number=order.order_number).final


def test_cancellation_returns_only_what_was_taken(engine):
    order = engine.order("store-a", units=2)
    orders_poll(store_id="store-a")
    engine.sandbox.order_progress("store-a", order.order_number, 900)
    orders_poll(store_id="store-a")
    orders_poll(store_id="store-a")
    assert order_events(order.order_number) == [
        (EventType.ORDER_RECEIVED, -2),
        (EventType.ORDER_CANCELLED, 2),
    ]
    assert available() == 25


def test_cancellation_of_a_never_received_order_changes_nothing(engine):
    order = engine.order("store-a", units=2)
    engine.sandbox.order_progress("store-a", order.order_number, 900)
    run = orders_poll(store_id="store-a")
    assert run.counts["orders"] == 1
    assert order_events(order.order_number) == []
    assert available() == 25


def test_a_quantity_change_records_the_difference(engine):
    order = engine.order("store-a", units=5)
    orders_poll(store_id="store-a")
    engine.sandbox.order_units("store-a", order.order_number, 0, 2)
    orders_poll(store_id="store-a")
    engine.sandbox.order_units("store-a", order.order_number, 0, 0)  # line removed
    orders_poll(store_id="store-a")
    assert order_events(order.order_number) == [
        (EventType.ORDER_RECEIVED, -5),
        (EventType.ORDER_MODIFIED, 3),
        (EventType.ORDER_MODIFIED, 2),
    ]
    assert available() == 25
    state = OrderSkuState.objects.get(order__order_number=order.order_number)
    assert (state.taken, state.events) == (0, 3)


def test_unknown_lines_are_kept_and_applied_once_the_sku_is_known(engine):
    engine.sandbox.item_add(
        "store-a", {"manageNumber": "bag", "variants": [{"variantId": "Bag-BLACK", "quantity": 5}]}
    )
    order = engine.order("store-a", variant_id="Bag-BLACK", manage_number="bag", units=2)
    run = orders_poll(store_id="store-a")
    assert run.counts["unmatched_lines"] == 1
    line = OrderLine.objects.get(order__order_number=order.order_number)
    assert line.sku_id is None
    assert (line.listing["manage_number"], line.listing["variant_id"], line.units) == (
        "bag",
        "Bag-BLACK",
        2,
    )
    SkuFactory(sku_id="Bag-BLACK", initial_stock=10)
    store_sku_register(
        store_id="store-a",
        sku_id="Bag-BLACK",
        manage_number="bag",
        variant_id="Bag-BLACK",
        actor=engine_actor(),
    )
    engine.sandbox.order_progress(
        "store-a", order.order_number, 500
    )  # final: only the local lines are left
    orders_poll(store_id="store-a")
    assert available("bag-black") == 8
    assert OrderLine.objects.get(order__order_number=order.order_number).sku_id == "bag-black"


def engine_actor():
    from events.actors import Actor

    return Actor.cli("test")


def test_two_polls_of_one_store_never_run_together(engine):
    with job_lease("poll:store-a") as token:
        assert token
        run = orders_poll(store_id="store-a")
    assert run.status == SyncRun.Status.SKIPPED
    assert engine.sandbox.calls_matching(shop_id="store-a") == []
    assert orders_poll(store_id="store-a").status == SyncRun.Status.SUCCEEDED


def test_an_expired_lease_can_be_taken_over(engine):
    assert lease_acquire("poll:store-a", dt.timedelta(seconds=-1))
    assert lease_acquire("poll:store-a") is not None
    assert lease_acquire("poll:store-a") is None


def test_a_pusher_killed_after_the_commit_loses_no_push(engine):
    engine.order("store-a", units=1)
    orders_poll(store_id="store-a")
    # A pusher claimed the rows and died before sending them.
    PendingPush.objects.update(status=PendingPush.Status.IN_PROGRESS)
    push_all()
    assert (engine.shown("store-b"), engine.shown("store-c")) == (24, 24)
    assert PendingPush.objects.count() == 0


@pytest.mark.parametrize("kind", ["429", "500"])
def test_a_storm_ends_with_everything_pushed_and_nothing_duplicated(engine, kind):
    for _ in range(3):
        engine.order("store-a", units=1)
    orders_poll(store_id="store-a")
    events_before = InventoryEvent.objects.count()
    engine.sandbox.fault_add("inventory.bulk_upsert", kind, 30, shop_id="store-b")
    runs = push_all()
    assert runs["store-b"].status == SyncRun.Status.FAILED
    row = PendingPush.objects.get(store_id="store-b", sku_id="tshirt-red-m")
    assert (row.status, row.attempts) == (PendingPush.Status.PENDING, 1)
    assert row.next_attempt_at >= timezone.now() + dt.timedelta(seconds=50)
    assert kind in row.last_error or "unavailable" in row.last_error
    assert engine.shown("store-b") == 25
    engine.sandbox.faults.clear()
    assert push_run(store_id="store-b").counts == {}  # not due yet
    push_run(store_id="store-b", now=timezone.now() + LATER)
    assert engine.shown("store-b") == 22
    assert PendingPush.objects.count() == 0
    assert InventoryEvent.objects.count() == events_before


def test_pushes_give_up_after_the_last_attempt_and_staff_can_retry(engine, settings):
    settings.SYNC_PUSH_MAX_ATTEMPTS = 2
    push_request(store_id="store-b")
    engine.sandbox.fault_add("inventory.bulk_upsert", "500", 100, shop_id="store-b")
    push_run(store_id="store-b")
    push_run(store_id="store-b", now=timezone.now() + LATER)
    rows = PendingPush.objects.filter(store_id="store-b")
    assert {row.status for row in rows} == {PendingPush.Status.FAILED}
    assert push_run(store_id="store-b", now=timezone.now() + 2 * LATER).counts == {}
    engine.sandbox.faults.clear()
    assert failed_retry(store_id="store-b") == 3
    push_run(store_id="store-b")
    assert PendingPush.objects.count() == 0


def test_a_row_rms_refuses_fails_alone(engine):
    # A variant id RMS refuses (written past the binder's checks, as an old row could be).
    RakutenBinding.objects.filter(
        registration__store_id="store-b", registration__sku_id="towel-navy"
    ).update(variant_id="Towel NAVY")
    push_request(store_id="store-b")
    run = push_run(store_id="store-b")
    assert run.status == SyncRun.Status.PARTIAL
    failed = PendingPush.objects.get()
    assert (failed.sku_id, failed.status) == ("towel-navy", PendingPush.Status.FAILED)
    assert "IE0002" in failed.last_error
    assert engine.shown("store-b", "Tshirt-RED-L") == 12
    assert run.counts["pushed"] == 2


def test_a_sku_without_an_rms_variant_fails_with_a_clear_error(engine):
    RakutenBinding.objects.filter(
        registration__store_id="store-b", registration__sku_id="towel-navy"
    ).update(manage_number="")
    push_request(store_id="store-b")
    push_run(store_id="store-b")
    failed = PendingPush.objects.get()
    assert "no RMS manageNumber" in failed.last_error


def test_test_mode_never_sends_a_prod_sku(engine, settings):
    settings.INVENTORY_TEST_MODE = True
    store_sku_register(
        store_id="store-b",
        sku_id="ce1111",
        manage_number="ce1111",
        variant_id="CE1111",
        actor=engine_actor(),
    )
    push_request(store_id="store-b")
    run = push_run(store_id="store-b")
    assert run.counts == {"held_test_mode": 3, "pushed": 1}
    sent = [
        c
        for c in engine.sandbox.calls_matching(shop_id="store-b")
        if c.endpoint == "inventory.bulk_upsert"
    ]
    assert len(sent) == 1
    assert engine.shown("store-b", "CE1111", "ce1111") == available("ce1111")  # pushed (was 100)
    assert available("ce1111") != 100
    assert PendingPush.objects.filter(store_id="store-b").count() == 3  # held, not lost


def test_low_stock_goes_first(engine):
    push_request(store_id="store-b")
    push_run(store_id="store-b")
    (call,) = engine.sandbox.calls_matching(endpoint="inventory.bulk_upsert")
    # Towel (3) before the L shirt (12) before the M shirt (25).
    assert [(row["variantId"], row["quantity"]) for row in call.body["inventories"]] == [
        ("Towel-NAVY", 3),
        ("Tshirt-RED-L", 12),
        ("Tshirt-RED-M", 25),
    ]


def test_confirmation_after_the_events_are_recorded(engine):
    Store.objects.filter(pk="store-a").update(
        api_config={"base_url": Store.objects.get(pk="store-a").base_url, "confirm_orders": True}
    )
    order = engine.order("store-a", units=1)
    orders_poll(store_id="store-a")
    row = Order.objects.get(order_number=order.order_number).rakuten_confirmation
    assert row.status == RakutenOrderConfirmation.Status.PENDING
    engine.sandbox.fault_add("order.confirm", "500", 10)
    run = orders_confirm(store_id="store-a")
    assert run.status == SyncRun.Status.FAILED
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    engine.sandbox.faults.clear()
    assert orders_confirm(store_id="store-a").counts == {}  # backing off
    run = orders_confirm(store_id="store-a", now=timezone.now() + LATER)
    assert run.counts["confirmed"] == 1
    row.refresh_from_db()
    assert row.status == RakutenOrderConfirmation.Status.DONE
    assert engine.sandbox.order("store-a", order.order_number).progress == 200


def test_auth_failure_stops_a_poll_with_a_clear_error(engine):
    engine.sandbox.shops["store-a"].license_expires_at = timezone.now() - LATER
    run = orders_poll(store_id="store-a")
    assert run.status == SyncRun.Status.FAILED
    assert "GA0001" in run.error


def test_commands_print_what_they_did(engine, capsys):
    engine.order("store-a", units=2)
    call_command("poll_orders", "--store", "store-a")
    call_command("push_inventory")
    call_command("confirm_orders", "--store", "store-a")
    call_command("retry_failed")
    call_command("reconcile_stores", "--store", "store-b")
    out = capsys.readouterr().out
    assert "store-a: order poll succeeded: events 1" in out
    assert "store-b: stock push succeeded: pushed 1" in out
    assert "0 pushes, 0 confirmations requeued" in out
    assert "store-b: reconcile succeeded: checked 3, drift 0" in out
    from events.models import AuditLog

    audit = AuditLog.objects.get(action="poll.manual")
    assert (audit.user, audit.details["store_id"]) == ("manage.py", "store-a")
