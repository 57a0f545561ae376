"""Concurrent writers on one SKU, each thread with its own connection.

Needs PostgreSQL: SQLite has no row locks and serializes whole-database
writers, which proves nothing about the ledger's locking.
"""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from events.models import EventSource, EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.services import event_record
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreSkuFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
EVENTS_EACH = 500


def test_eight_writers_on_one_sku_lose_no_update_and_do_not_deadlock():
    sku = SkuFactory(initial_stock=100_000)
    for _ in range(3):
        StoreSkuFactory(sku=sku)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                # Orders out and cancellations back, and some replays of a
                # token already used, all interleaved across writers.
                sign = -1 if i % 3 else 1
                event_record(
                    sku_id=sku.sku_id,
                    quantity=sign * (1 + i % 4),
                    event_type=EventType.ORDER_RECEIVED if sign < 0 else EventType.ORDER_CANCELLED,
                    source=EventSource.API,
                    operator=f"writer-{index}",
                    token=f"w{index}-{i}",
                )
                if i % 50 == 0:
                    event_record(
                        sku_id=sku.sku_id,
                        quantity=sign * (1 + i % 4),
                        event_type=(
                            EventType.ORDER_RECEIVED if sign < 0 else EventType.ORDER_CANCELLED
                        ),
                        source=EventSource.API,
                        operator=f"writer-{index}",
                        token=f"w{index}-{i}",
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    assert errors == []

    events = InventoryEvent.objects.filter(sku=sku)
    assert events.count() == WRITERS * EVENTS_EACH + 1  # + the INITIAL event
    total = events.aggregate(total=Sum("quantity"))["total"]
    snapshot = InventorySnapshot.objects.get(pk=sku.sku_id)
    assert snapshot.internal_available == total
    # The balances chain: in lock order each event starts where the one before
    # it ended. Whatever that order, the balances before the events are then
    # exactly 0 and the balances after every event but the last one.
    rows = list(events.values_list("quantity", "balance_after"))
    before = sorted(after - quantity for quantity, after in rows)
    after = sorted([0] + [after for _, after in rows])
    after.remove(total)
    assert before == after
    assert InventoryEvent.objects.get(pk=snapshot.last_event_id).balance_after == total
    assert PendingPush.objects.filter(sku=sku).count() == 3
    # And the timeline, in time order, is that lock order: neighbouring rows follow from
    # each other (the time is taken under the row lock, not before it).
    timeline = list(events.order_by("created_at").values_list("quantity", "balance_after"))
    broken = [
        index
        for index in range(1, len(timeline))
        if timeline[index - 1][1] + timeline[index][0] != timeline[index][1]
    ]
    assert broken == []
