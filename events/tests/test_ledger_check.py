"""The stored ledger check (service, task, schedule) and the admin's indexed searches over
the ledger."""

from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django_q.models import Schedule

from events.models import (
    LEDGER_CHECK_DRIFT_KEPT,
    InventoryEvent,
    InventorySnapshot,
    LedgerCheck,
)
from events.services import audit_record, event_record, ledger_check_run, stock_adjust
from events.tasks import NIGHTLY, ledger_check
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory
from sync.schedules import SCHEDULES, schedules_ensure

pytestmark = pytest.mark.django_db


def test_a_check_of_a_ledger_that_adds_up_is_stored_ok(system_actor):
    SkuFactory(sku_id="Mug-1", initial_stock=4)
    check = ledger_check_run(actor=system_actor)
    assert LedgerCheck.objects.get() == check
    assert (check.status, check.drift_count, check.drift) == ("ok", 0, [])
    assert check.skus_checked == 2  # mug-1 and the test SKU ce1111
    assert check.requested_by == "tests"
    assert check.finished_at >= check.started_at
    assert check.duration_ms >= 0


def test_a_check_keeps_the_first_drifts_and_counts_them_all(system_actor):
    SkuFactory(sku_id="Mug-1", initial_stock=4)
    SkuFactory(sku_id="Mug-2", initial_stock=4)
    InventorySnapshot.objects.filter(pk="mug-1").update(internal_available=9)
    InventorySnapshot.objects.filter(pk="mug-2").delete()
    with mock.patch("events.models.LEDGER_CHECK_DRIFT_KEPT", 1):
        check = ledger_check_run(actor=system_actor)
    assert (check.status, check.drift_count) == ("drift", 2)
    assert check.drift == [{"sku_id": "mug-1", "snapshot": 9, "ledger": 4}]
    assert LEDGER_CHECK_DRIFT_KEPT == 500
    # Nothing is repaired by a check.
    assert InventorySnapshot.objects.get(pk="mug-1").internal_available == 9


def test_a_failed_check_is_stored_with_its_error(system_actor):
    with (
        mock.patch(
            "events.selectors.snapshot_drift_scan", side_effect=RuntimeError("database gone")
        ),
        pytest.raises(RuntimeError),
    ):
        ledger_check_run(actor=system_actor)
    check = LedgerCheck.objects.get()
    assert check.status == "failed"
    assert check.error == "RuntimeError: database gone"


def test_the_task_runs_a_check_as_the_nightly_schedule_and_is_scheduled():
    assert ledger_check() == "ok: 0 of 1 SKUs drift"
    assert LedgerCheck.objects.get().requested_by == NIGHTLY
    schedules_ensure()
    nightly = Schedule.objects.get(func="events.tasks.ledger_check")
    assert nightly.schedule_type == Schedule.DAILY
    assert nightly.name in {spec.name for spec in SCHEDULES}


@pytest.fixture
def ledger(actor):
    """Two SKUs whose ids share a beginning, an order event of each, a manual one."""
    store = StoreFactory(store_id="tokyo")
    SkuFactory(sku_id="Cup-10", initial_stock=5)
    SkuFactory(sku_id="Cup-11", initial_stock=5)
    SkuFactory(sku_id="Teacup-1", initial_stock=5)
    orders = [
        event_record(
            sku_id=sku_id,
            quantity=-1,
            event_type="ORDER_RECEIVED",
            source="api",
            operator="system",
            store_id=store.store_id,
            order_id=order_id,
        )
        for sku_id, order_id in [("cup-10", "100001-A"), ("cup-11", "100001-B")]
    ]
    manual = stock_adjust(sku_id="teacup-1", quantity=2, reason="found", actor=actor)
    return orders, manual


def search(client, model, term):
    page = client.get(reverse(f"admin:events_{model}_changelist"), {"q": term})
    assert page.status_code == 200
    return page.context["cl"]


def test_event_search_is_exact_or_prefix_never_substring(admin_client, ledger):
    (order_a, order_b), manual = ledger

    def skus(term):
        found = search(admin_client, "inventoryevent", term).result_list
        return sorted({event.sku_id for event in found})

    assert skus("CUP-10") == ["cup-10"]  # an exact SKU id, in any case
    assert skus("cup-1") == ["cup-10", "cup-11"]  # the beginning of SKU ids
    assert skus("up-1") == []  # not the middle
    assert [e.pk for e in search(admin_client, "inventoryevent", "100001-A").result_list] == [
        order_a.pk
    ]
    assert {e.pk for e in search(admin_client, "inventoryevent", "100001-").result_list} == {
        order_a.pk,
        order_b.pk,
    }
    assert [e.pk for e in search(admin_client, "inventoryevent", order_b.token).result_list] == [
        order_b.pk
    ]
    assert search(admin_client, "inventoryevent", order_b.token[:20]).result_count == 0
    # One operator's events: by the exact name, else by its beginning; never the middle.
    for term in ("operator:alice", "Operator: ali"):
        found = search(admin_client, "inventoryevent", term).result_list
        assert [e.pk for e in found] == [manual.pk]
    assert search(admin_client, "inventoryevent", "operator:system").result_count == 2
    assert search(admin_client, "inventoryevent", "operator:lice").result_count == 0
    assert search(admin_client, "inventoryevent", "alice").result_count == 0  # not plain
    # The page says what the search matches.
    page = admin_client.get(reverse("admin:events_inventoryevent_changelist"))
    assert "exactly or by its beginning" in page.content.decode()


def test_other_ledger_lists_search_by_the_beginning(admin_client, ledger, actor):
    def sku_ids(model, term):
        return sorted(row.sku_id for row in search(admin_client, model, term).result_list)

    assert sku_ids("inventorysnapshot", "cup") == ["cup-10", "cup-11"]
    assert sku_ids("inventorysnapshot", "cup") == sku_ids("inventorysnapshot", "CUP")
    assert sku_ids("inventorysnapshot", "acup") == []
    assert sku_ids("pendingpush", "cup") == []  # no store registration: no push
    audit_record(actor=actor, action="store.update", details={})
    found = search(admin_client, "auditlog", "stock.").result_list
    assert {row.action for row in found} == {"stock.adjust"}
    assert {row.user for row in search(admin_client, "auditlog", "al").result_list} == {"alice"}
    assert search(admin_client, "auditlog", "adjust").result_count == 0


def test_the_event_list_is_ordered_newest_first_and_counted_cheaply(admin_client, ledger):
    cl = search(admin_client, "inventoryevent", "")
    times = [event.created_at for event in cl.result_list]
    assert times == sorted(times, reverse=True)
    assert cl.result_count == InventoryEvent.objects.count()
    with (
        mock.patch("skus.pagination.COUNT_LIMIT", 2),
        mock.patch("skus.pagination.planner_estimate", return_value=1234) as estimate,
    ):
        assert search(admin_client, "inventoryevent", "").result_count == 1234
    estimate.assert_called_once()


@pytest.mark.postgres
def test_the_admin_lists_and_searches_use_indexes_on_postgresql(ledger):
    from events.selectors import event_search

    def plan(queryset, ordered=False):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            # On a few rows the planner may prefer a bitmap scan and a sort; checked here is
            # that an index serves the order at all (as it must on 1M events).
            cursor.execute(f"SET LOCAL enable_bitmapscan = {'off' if ordered else 'on'}")
            cursor.execute(f"SET LOCAL enable_sort = {'off' if ordered else 'on'}")
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

    newest = InventoryEvent.objects.order_by("-created_at", "-event_id")[:100]
    assert "Index Scan Backward using inv_events_time" in plan(newest)
    assert "Sort" not in plan(newest)
    assert "inv_events_order" in plan(event_search(InventoryEvent.objects.all(), "100001-"))
    by_operator = event_search(InventoryEvent.objects.all(), "operator:alice")
    assert "Index Scan Backward using inv_events_operator_time" in plan(
        by_operator.order_by("-created_at")[:100], ordered=True
    )
