"""Issue 15: a poll reads what changed, not every open order, and applies only what differs.

RMS has no "changed since": the adapter finds moved orders by searching per status group
and by shipping date, reads those at 100 every time, and the engine names the orders due
for a re-read by age (``SYNC_POLL_REREAD_TIERS``); the nightly sweep reads everything."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from events.models import EventType, InventoryEvent
from inventory_site.settings import _reread_tiers
from sync.models import Order, OrderLine, QuarantinedOrder, SyncRun
from sync.orders import orders_poll, reread_due, snapshot_digest

pytestmark = pytest.mark.django_db(transaction=True)

STORE = "store-a"


def order_reads(engine, since: int) -> list[str]:
    """Order numbers getOrder was asked for since call ``since`` of the shop's log."""
    calls = engine.sandbox.calls_matching(shop_id=STORE)[since:]
    return [n for c in calls if c.endpoint == "order.get" for n in c.body["orderNumberList"]]


def calls_since(engine, since: int) -> list[str]:
    return [c.endpoint for c in engine.sandbox.calls_matching(shop_id=STORE)[since:]]


def mark(engine) -> int:
    return len(engine.sandbox.calls_matching(shop_id=STORE))


def events_of(number: str) -> list[tuple[str, int]]:
    return list(
        InventoryEvent.objects.filter(order_id=number)
        .order_by("created_at")
        .values_list("event_type", "quantity")
    )


def taken(number: str) -> int:
    return sum(quantity for _, quantity in events_of(number))


@pytest.fixture
def shipping(engine):
    """Five orders awaiting shipment (300), applied by a first poll."""
    orders = [engine.order(STORE, units=1) for _ in range(5)]
    for order in orders:
        engine.sandbox.order_progress(STORE, order.order_number, 300)
    orders_poll(store_id=STORE)
    assert Order.objects.filter(store_id=STORE, final=False).count() == 5
    return [order.order_number for order in orders]


def test_a_quiet_poll_reads_no_open_order_and_writes_no_line(engine, shipping):
    line_ids = set(OrderLine.objects.values_list("pk", flat=True))
    since = mark(engine)
    run = orders_poll(store_id=STORE)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert order_reads(engine, since) == []
    # new orders, the pending group, recent cancellations, shipping date: four searches
    assert calls_since(engine, since) == ["order.search"] * 4
    assert set(OrderLine.objects.values_list("pk", flat=True)) == line_ids


def test_a_cancelled_order_is_found_by_its_status_and_read_alone(engine, shipping):
    engine.sandbox.order_progress(STORE, shipping[2], 900)
    since = mark(engine)
    run = orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [shipping[2]]
    assert run.counts["events"] == 1
    assert events_of(shipping[2])[-1] == (EventType.ORDER_CANCELLED, 1)
    assert Order.objects.get(order_number=shipping[2]).final


def test_a_cancel_request_is_found_and_read_until_it_resolves(engine, shipping):
    engine.sandbox.order_progress(STORE, shipping[1], 800)
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [shipping[1]]
    engine.sandbox.order_progress(STORE, shipping[1], 900)  # still in the group: read anyway
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [shipping[1]]
    assert taken(shipping[1]) == 0


def test_status_groups_and_always_read_are_settings(engine, shipping, settings):
    settings.RAKUTEN_POLL_STATUS_GROUPS = [[900], [100, 200, 400, 800]]
    settings.RAKUTEN_POLL_ALWAYS_READ = []
    settings.RAKUTEN_POLL_DATE_TYPES = []
    settings.RAKUTEN_POLL_CANCELLED_STATUSES = []
    engine.sandbox.order_progress(STORE, shipping[1], 900)
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert calls_since(engine, since) == ["order.search"] * 3 + ["order.get"]
    assert order_reads(engine, since) == [shipping[1]]
    searched = [
        c.body.get("orderProgressList")
        for c in engine.sandbox.calls_matching(shop_id=STORE, endpoint="order.search")[-3:]
    ]
    assert searched == [None, [900], [100, 200, 400, 800]]


def test_orders_due_are_read_between_the_searches(engine, shipping, settings):
    """Each endpoint has its own 1 call/s: reads of what is known to be wanted go out
    while the searches wait for their turn."""
    settings.SYNC_POLL_REREAD_TIERS = ((None, 1),)
    since = mark(engine)
    orders_poll(store_id=STORE, now=timezone.now() + dt.timedelta(minutes=2))
    assert calls_since(engine, since)[:3] == ["order.search", "order.get", "order.search"]
    assert sorted(order_reads(engine, since)) == sorted(shipping)


def test_a_cancellation_is_searched_among_recent_orders_only(engine, shipping, settings):
    settings.RAKUTEN_POLL_CANCELLED_HOURS = 1
    engine.sandbox.order_progress(STORE, shipping[0], 900)
    since = mark(engine)
    orders_poll(store_id=STORE, now=timezone.now() + dt.timedelta(minutes=20))
    assert order_reads(engine, since) == [shipping[0]]
    searched = engine.sandbox.calls_matching(shop_id=STORE, endpoint="order.search")[-4:]
    cancelled = [c.body for c in searched if c.body.get("orderProgressList") == [900]]
    assert len(cancelled) == 1
    # placed in the last hour only (RMS's format: +0900, whole seconds)
    start = dt.datetime.strptime(cancelled[0]["startDatetime"], "%Y-%m-%dT%H:%M:%S%z")
    assert timezone.now() - start < dt.timedelta(minutes=45)


def test_a_shipped_order_is_found_by_its_shipping_date_and_becomes_final(engine, shipping):
    engine.sandbox.order_progress(STORE, shipping[0], 500)
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [shipping[0]]
    assert Order.objects.get(order_number=shipping[0]).final
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert order_reads(engine, since) == []


def test_an_order_awaiting_confirmation_is_read_every_poll(engine, shipping):
    waiting = engine.order(STORE, units=2)
    orders_poll(store_id=STORE)
    engine.sandbox.order_units(STORE, waiting.order_number, 0, 1)  # the buyer edits it at 100
    since = mark(engine)
    run = orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [waiting.order_number]
    assert events_of(waiting.order_number) == [
        (EventType.ORDER_RECEIVED, -2),
        (EventType.ORDER_MODIFIED, 1),
    ]
    assert run.counts["orders"] == 1


def test_an_order_changed_without_a_sign_is_caught_by_its_tier(engine, shipping, settings):
    """A line edited at 300 shows in no search: the poll misses it until the order's tier
    says it is due, then reads it; the engine never lost it."""
    settings.SYNC_POLL_REREAD_TIERS = ((1440, 30), (None, 720))
    engine.sandbox.order_units(STORE, shipping[1], 0, 0)  # the shop deletes the line
    orders_poll(store_id=STORE)
    assert taken(shipping[1]) == -1  # not seen yet
    since = mark(engine)
    run = orders_poll(store_id=STORE, now=timezone.now() + dt.timedelta(minutes=31))
    assert set(order_reads(engine, since)) == set(shipping)  # all five are due
    assert events_of(shipping[1])[-1] == (EventType.ORDER_MODIFIED, 1)
    assert taken(shipping[1]) == 0
    # The four that did not change were only marked read: the next tier starts again.
    assert run.counts["unchanged"] == 4
    assert run.counts["orders"] == 1
    since = mark(engine)
    orders_poll(store_id=STORE, now=timezone.now() + dt.timedelta(minutes=40))
    assert order_reads(engine, since) == []


def test_an_order_changed_without_a_sign_is_caught_by_the_sweep(engine, shipping):
    engine.sandbox.order_units(STORE, shipping[3], 0, 0)
    orders_poll(store_id=STORE)
    assert taken(shipping[3]) == -1
    run = orders_poll(store_id=STORE, sweep=True)
    assert events_of(shipping[3])[-1] == (EventType.ORDER_MODIFIED, 1)
    assert run.counts["unchanged"] == 4


def test_reading_every_open_order_can_be_chosen(engine, shipping, settings):
    settings.RAKUTEN_POLL_SEARCH_CHANGES = False
    since = mark(engine)
    run = orders_poll(store_id=STORE)
    assert sorted(order_reads(engine, since)) == sorted(shipping)
    assert calls_since(engine, since) == ["order.search", "order.get"]
    assert run.counts["unchanged"] == 5
    assert "orders" not in run.counts


def test_an_unchanged_order_keeps_its_rows_and_only_its_read_time_moves(engine, shipping):
    row = Order.objects.get(order_number=shipping[4])
    lines = list(row.lines.values_list("pk", "units"))
    later = timezone.now() + dt.timedelta(days=1)
    orders_poll(store_id=STORE, sweep=True, now=later)
    again = Order.objects.get(order_number=shipping[4])
    assert list(again.lines.values_list("pk", "units")) == lines
    assert again.digest == row.digest != ""
    assert again.last_seen_at == later


def test_a_quarantined_order_read_back_unchanged_is_resolved(engine, shipping):
    QuarantinedOrder.objects.create(
        store_id=STORE, order_number=shipping[0], reason="earlier failure", snapshot={}
    )
    since = mark(engine)
    orders_poll(store_id=STORE)
    assert order_reads(engine, since) == [shipping[0]]  # set-aside orders are always due
    assert QuarantinedOrder.objects.get().status == QuarantinedOrder.Status.RESOLVED


def test_the_digest_changes_with_anything_the_engine_applies():
    from sync.adapters import OrderLineSnapshot, OrderSnapshot

    line = OrderLineSnapshot(listing={"manage_number": "a", "variant_id": "b"}, units=2)
    base = OrderSnapshot(number="1", status="300", lines=(line,))
    variants = [
        OrderSnapshot(number="1", status="400", lines=(line,)),
        OrderSnapshot(number="1", status="300", lines=(line,), cancelled=True),
        OrderSnapshot(number="1", status="300", lines=(line,), final=True),
        OrderSnapshot(number="1", status="300", lines=(line,), confirmed=True),
        OrderSnapshot(
            number="1",
            status="300",
            lines=(OrderLineSnapshot(listing=line.listing, units=3),),
        ),
        OrderSnapshot(
            number="1",
            status="300",
            lines=(OrderLineSnapshot(listing=line.listing, units=2, counts=False),),
        ),
        OrderSnapshot(number="1", status="300", lines=(line, line)),
    ]
    digests = {snapshot_digest(base), *(snapshot_digest(v) for v in variants)}
    assert len(digests) == 1 + len(variants)
    same = OrderSnapshot(number="1", status="300", lines=(line,), extra={"progress": 300})
    assert snapshot_digest(same) == snapshot_digest(base)


def test_reread_tiers_by_age(settings):
    settings.SYNC_POLL_REREAD_TIERS = ((60, 5), (1440, 30), (None, 720))
    now = timezone.now()
    minutes = dt.timedelta(minutes=1)
    # placed 10 minutes ago: due 5 minutes after its last read
    assert not reread_due(now - 10 * minutes, now - 4 * minutes, now)
    assert reread_due(now - 10 * minutes, now - 5 * minutes, now)
    # placed 2 hours ago: 30 minutes
    assert not reread_due(now - 120 * minutes, now - 29 * minutes, now)
    assert reread_due(now - 120 * minutes, now - 30 * minutes, now)
    # placed 3 days ago: 12 hours
    assert not reread_due(now - 4320 * minutes, now - 700 * minutes, now)
    assert reread_due(now - 4320 * minutes, now - 720 * minutes, now)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1440:30,10080:120,*:720", ((1440, 30), (10080, 120), (None, 720))),
        (" *:15 ", ((None, 15),)),
    ],
)
def test_reread_tiers_setting(text, expected):
    assert _reread_tiers(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1440:30", "must end with"),
        ("", "must end with"),
        ("abc:30,*:60", "is not age:minutes"),
        ("60:0,*:60", "must be positive"),
    ],
)
def test_reread_tiers_setting_refuses_nonsense(text, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _reread_tiers(text)


# --- changed orders are applied in batches ---------------------------------------------------


def snap(number, units=1, variant="Tshirt-RED-M"):
    from sync.adapters import OrderLineSnapshot, OrderSnapshot

    return OrderSnapshot(
        number=number,
        status="300",
        ordered_at=timezone.now(),
        lines=(
            OrderLineSnapshot(
                listing={"manage_number": "tshirt-red", "variant_id": variant},
                units=units,
                line_id=f"{number}-1",
            ),
        ),
        confirmed=True,
    )


def test_a_batch_takes_the_same_statements_for_5_or_50_orders(engine, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rakuten.adapter import RmsBinder
    from stores.models import Store
    from sync.orders import orders_apply

    recorded = []
    monkeypatch.setattr("sync.orders.event_record", lambda **event: recorded.append(event))
    store = Store.objects.get(pk=STORE)
    matcher = RmsBinder().matcher(store)

    def statements(count: int) -> int:
        snapshots = [
            snap(f"b{count}-{i:03d}", variant=("Tshirt-RED-M", "Tshirt-RED-L")[i % 2])
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            events = orders_apply(
                store=store, snapshots=snapshots, matcher=matcher, now=timezone.now()
            )
        assert events == {s.number: 2 for s in snapshots}  # received + confirmed
        return len(queries.captured_queries)

    assert statements(5) == statements(50)
    # Recorded SKU by SKU (the lock order every batch keeps), each order's own in order.
    keys = [(e["sku_id"], e["order_id"]) for e in recorded[-100:]]
    assert keys == sorted(keys)
    assert [e["event_type"] for e in recorded[-2:]] == [
        EventType.ORDER_RECEIVED,
        EventType.ORDER_CONFIRMED,
    ]


def test_a_batch_converges_like_single_orders_and_replays_add_nothing(engine):
    from events.selectors import snapshot_drift
    from rakuten.adapter import RmsBinder
    from stores.models import Store
    from sync.orders import orders_apply

    store = Store.objects.get(pk=STORE)
    matcher = RmsBinder().matcher(store)
    first = [snap(f"c-{i}", units=2) for i in range(4)]
    orders_apply(store=store, snapshots=first, matcher=matcher, now=timezone.now())
    changed = [snap("c-0", units=1), snap("c-1", units=2), snap("c-2", units=0)]
    for _ in range(3):
        orders_apply(store=store, snapshots=changed, matcher=matcher, now=timezone.now())
    assert [taken(f"c-{i}") for i in range(4)] == [-1, -2, 0, -2]
    assert events_of("c-0") == [
        (EventType.ORDER_RECEIVED, -2),
        (EventType.ORDER_CONFIRMED, 0),
        (EventType.ORDER_MODIFIED, 1),
    ]
    assert snapshot_drift() == []
    assert OrderLine.objects.filter(order__order_number="c-0").get().units == 1


def test_an_order_that_breaks_its_batch_is_set_aside_alone(engine, monkeypatch):
    from rakuten.adapter import RmsBinder

    real = RmsBinder.matcher

    def matcher(self, store):
        match = real(self, store)

        def picky(listing):
            if listing.get("variant_id") == "Tshirt-RED-L":
                raise RuntimeError("cannot match this one")
            return match(listing)

        return picky

    monkeypatch.setattr(RmsBinder, "matcher", matcher)
    good = [engine.order(STORE, units=1) for _ in range(3)]
    bad = engine.order(STORE, variant_id="Tshirt-RED-L", units=1)
    run = orders_poll(store_id=STORE)
    assert run.counts["orders"] == 3
    assert run.counts["quarantined"] == 1
    assert [taken(o.order_number) for o in good] == [-1, -1, -1]
    assert QuarantinedOrder.objects.get().order_number == bad.order_number
    assert taken(bad.order_number) == 0
