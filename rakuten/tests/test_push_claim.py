"""Issue 15: a push claims and looks up its rows in two statements, whatever their number,
and checks each batch's bindings just before it goes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.actors import Actor
from events.models import PendingPush
from rakuten.models import RakutenBinding
from skus.services import sku_create
from stores.models import Store, StoreSku
from sync.models import SyncRun
from sync.push import _claim, push_request, push_run
from sync.runs import RunLog

pytestmark = pytest.mark.django_db(transaction=True)

STORE = "store-a"
COUNT = 620  # more than a chunk of 500 and than a bulk-upsert of 400


@pytest.fixture
def many(engine):
    actor = Actor.cli("test")
    store = Store.objects.get(pk=STORE)
    for i in range(COUNT):
        sku_create(sku_id=f"bulk-{i:04d}", sku_name="bulk", initial_stock=i % 9, actor=actor)
    registrations = StoreSku.objects.bulk_create(
        StoreSku(store=store, sku_id=f"bulk-{i:04d}", safety_stock=1 if i % 2 else None)
        for i in range(COUNT)
    )
    # The last one is registered without RMS keys: it can only fail.
    RakutenBinding.objects.bulk_create(
        RakutenBinding(
            registration=registration,
            store=store,
            manage_number="bulk",
            variant_id=f"bulk-{i:04d}",
        )
        for i, registration in enumerate(registrations[:-1])
    )
    Store.objects.filter(pk=STORE).update(safety_stock=2)
    push_request(store_id=STORE)
    return store


def test_claiming_takes_two_statements_for_any_number_of_rows(many):
    run = SyncRun.objects.create(store=many, kind=SyncRun.Kind.PUSH)
    with CaptureQueriesContext(connection) as queries:
        rows = _claim(many, timezone.now(), RunLog(run))
    assert len(queries.captured_queries) == 2
    assert len(rows) == COUNT + 3  # the engine fixture's three SKUs are due as well
    by_sku = {row["sku_id"]: row for row in rows}
    assert by_sku["bulk-0007"]["available"] == 7
    assert by_sku["bulk-0007"]["safety"] == 1
    assert by_sku["bulk-0008"]["safety"] is None  # the store's safety stock applies
    assert set(PendingPush.objects.filter(store=many).values_list("status", flat=True)) == {
        PendingPush.Status.IN_PROGRESS
    }


def test_a_push_of_many_rows_sends_every_bound_one_and_fails_the_unbound(engine, many):
    run = push_run(store_id=STORE)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.counts["pushed"] == COUNT + 2
    assert run.counts["failed"] == 1
    unbound = PendingPush.objects.get(store=many)
    assert unbound.sku_id == f"bulk-{COUNT - 1:04d}"
    assert unbound.status == PendingPush.Status.FAILED
    assert "manageNumber" in unbound.last_error
    # own safety 1 (odd) or the store's 2 (even); never below 0
    assert engine.shown(STORE, "bulk-0007", "bulk") == 6
    assert engine.shown(STORE, "bulk-0008", "bulk") == 6
    assert engine.shown(STORE, "bulk-0001", "bulk") == 0
    upserts = engine.sandbox.calls_matching(shop_id=STORE, endpoint="inventory.bulk_upsert")
    assert [len(call.body["inventories"]) for call in upserts] == [400, COUNT + 2 - 400]


def test_a_push_stopped_by_staff_keeps_the_rest_due(engine, many, monkeypatch):
    """STOP between batches: what was not sent stays due, with why, no attempt counted."""
    monkeypatch.setattr(RunLog, "cancelled", lambda self: True)
    run = push_run(store_id=STORE)
    assert run.status == SyncRun.Status.CANCELLED
    assert run.counts["pushed"] == 400
    left = PendingPush.objects.filter(store=many, status=PendingPush.Status.PENDING)
    assert left.count() + run.counts.get("failed", 0) == COUNT + 3 - 400
    assert set(left.values_list("attempts", flat=True)) == {0}
    assert all("stopped by staff" in error for error in left.values_list("last_error", flat=True))
    assert all(at <= timezone.now() for at in left.values_list("next_attempt_at", flat=True))
    assert "Stopped by staff after 400 of" in run.log
