"""A futureshop poll reads in detail only the orders the search shows changed: the order
search carries each order's status and lines, the detail costs one call per order at one
call a second. Nothing the search shows changed is ever skipped."""

from __future__ import annotations

import datetime as dt

import pytest

from events.models import InventoryEvent
from sync.models import Order, PollState, SyncRun
from sync.orders import orders_poll
from sync.ratelimit import limiter

from .test_contract import FutureshopWorld, fs_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
STORE = "fs-a"
SHOP = "key-fs-a"


@pytest.fixture
def world(fs_server, db) -> FutureshopWorld:  # noqa: F811
    limiter.reset()
    return FutureshopWorld(fs_server.sandbox, fs_server.url)


def reads(world: FutureshopWorld) -> int:
    return len(world.sandbox.calls_matching(shop_id=SHOP, endpoint="order.get"))


def poll() -> SyncRun:
    run = orders_poll(store_id=STORE)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_an_unchanged_order_is_not_read_again(world):
    numbers = [world.place_order(STORE, "tshirt-red-m", 1) for _ in range(3)]
    poll()
    assert reads(world) == 3
    events = InventoryEvent.objects.count()
    for _ in range(3):
        poll()
    assert reads(world) == 3  # the searches showed nothing new
    assert InventoryEvent.objects.count() == events
    assert Order.objects.filter(store_id=STORE, order_number__in=numbers).count() == 3


def test_a_changed_count_or_a_cancellation_is_read_and_applied(world):
    first = world.place_order(STORE, "tshirt-red-m", 2)
    second = world.place_order(STORE, "towel-navy", 1)
    poll()
    before = reads(world)
    world.change_units(STORE, first, "tshirt-red-m", 1)
    poll()
    assert reads(world) == before + 1
    world.cancel_order(STORE, second)
    poll()
    assert reads(world) == before + 2
    assert Order.objects.get(store_id=STORE, order_number=second).cancelled
    kinds = list(
        InventoryEvent.objects.filter(order_id__in=[first, second])
        .order_by("created_at")
        .values_list("event_type", "quantity")
    )
    assert ("ORDER_MODIFIED", 1) in kinds
    assert ("ORDER_CANCELLED", 1) in kinds


def test_an_open_order_older_than_the_search_window_is_still_checked(world):
    number = world.place_order(STORE, "tshirt-red-m", 2)
    poll()
    # Days later: the cursor has moved on, the order is still open.
    state = PollState.objects.get(store_id=STORE)
    state.cursor = state.cursor + dt.timedelta(days=5)
    state.save(update_fields=["cursor"])
    before = reads(world)
    poll()
    assert reads(world) == before  # found unchanged by the search from the oldest open order
    world.cancel_order(STORE, number)
    poll()
    assert reads(world) == before + 1
    assert Order.objects.get(store_id=STORE, order_number=number).cancelled


def test_an_open_order_the_search_no_longer_shows_is_read_in_detail(world):
    number = world.place_order(STORE, "tshirt-red-m", 1)
    poll()
    before = reads(world)
    del world.sandbox.shops[SHOP].orders[number]  # gone from futureshop altogether
    run = poll()
    assert reads(world) == before + 1
    assert run.counts.get("not_found") == 1


def test_a_sweep_reads_every_order_again(world):
    world.place_order(STORE, "tshirt-red-m", 1)
    world.place_order(STORE, "towel-navy", 1)
    poll()
    before = reads(world)
    run = orders_poll(store_id=STORE, sweep=True)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert reads(world) == before + 2
