"""seed_bulk makes a consistent large data set; bench_pages times every staff page and
every admin list on it, and leaves none out."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from demo.management.commands.bench_pages import (
    NOT_PAGES,
    Command,
    admin_routes,
    staff_routes,
    uncovered,
)
from events.models import AuditLog, InventoryEvent, LedgerCheck, PendingPush
from events.selectors import snapshot_drift
from imports.models import UploadedFile
from purchasing.models import InventoryItem, Purchasing
from rakuten.models import RakutenOrderConfirmation
from skus.models import Sku
from stores.models import StoreSku
from sync.models import Order, OrderLine, QuarantinedOrder, SyncRun

pytestmark = pytest.mark.django_db


def test_seed_bulk_adds_up_and_runs_once():
    out = StringIO()
    call_command("seed_bulk", "--skus", "40", "--events", "400", "--audit", "25", stdout=out)
    assert "Seeded 40 SKUs, 400 events" in out.getvalue()
    assert Sku.objects.filter(sku_id__startswith="bulk-").count() == 40
    assert InventoryEvent.objects.filter(sku__sku_id__startswith="bulk-").count() == 400
    # Every snapshot is the sum of its events, and the balances chain.
    assert snapshot_drift() == []
    hot = list(
        InventoryEvent.objects.filter(sku_id="bulk-0000000")
        .order_by("created_at")
        .values_list("quantity", "balance_after")
    )
    running = 0
    for quantity, balance in hot:
        running += quantity
        assert balance == running
    assert len(hot) > 10  # the bestseller has the long timeline
    oversold = InventoryEvent.objects.filter(oversold=True)
    assert all(e.balance_after < 0 and not e.sku.allow_oversell for e in oversold)
    # Three Rakuten stores (1 to 3 each) and the futureshop store (one SKU in twenty).
    assert StoreSku.objects.filter(sku__sku_id__startswith="bulk-").count() == 40 + 26 + 13 + 2
    assert AuditLog.objects.count() == 25
    assert PendingPush.objects.filter(status="failed").exists()
    # One order (one line) behind each order received, for the same store and units.
    received = InventoryEvent.objects.filter(event_type="ORDER_RECEIVED")
    assert Order.objects.count() == received.count() > 0
    for event in received[:20]:
        line = OrderLine.objects.get(
            order__store_id=event.store_id, order__order_number=event.order_id, position=1
        )
        assert (line.sku_id, line.units) == (event.sku_id, -event.quantity)
    assert OrderLine.objects.filter(sku__isnull=True).exists()  # unmatched lines
    assert RakutenOrderConfirmation.objects.exists()
    assert QuarantinedOrder.objects.filter(status="open").exists()
    assert SyncRun.objects.filter(kind="reconcile").exclude(details={}).exists()
    assert UploadedFile.objects.filter(status="pending").count() == 1
    assert InventoryItem.objects.filter(purchase__in=Purchasing.objects.all()).exists()
    # The last check is a real one, of this ledger.
    check = LedgerCheck.objects.order_by("-started_at").first()
    assert (check.requested_by, check.status, check.drift_count) == ("seed_bulk", "ok", 0)
    assert check.skus_checked == Sku.objects.count()
    with pytest.raises(CommandError, match="Bulk data is there already"):
        call_command("seed_bulk", "--skus", "40", "--events", "400")
    with pytest.raises(CommandError, match="one event per SKU"):
        call_command("seed_bulk", "--skus", "40", "--events", "10")


def test_bench_pages_leaves_no_staff_url_or_admin_list_out():
    call_command("seed_bulk", "--skus", "30", "--events", "300", stdout=StringIO())
    pages = Command().pages()
    assert uncovered(pages) == []
    routes = {page.route for page in pages}
    # Every page of the staff site and every admin list, taken from the URLconf and the
    # admin's registry (not from a list kept by hand).
    assert {"skus:list", "reports:reconcile", "purchasing:detail", "imports:preview"} <= routes
    assert "admin:events_inventoryevent_changelist" in admin_routes() & routes
    assert "admin:events_inventoryevent_change" in routes
    assert set(NOT_PAGES) <= staff_routes()  # no stale excuse
    # Leaving one out is caught, whichever kind it is.
    for left_out in ("sync:dashboard", "admin:sync_order_changelist"):
        assert uncovered([page for page in pages if page.route != left_out]) == [left_out]


def test_bench_pages_times_every_page():
    with pytest.raises(CommandError, match="seed_bulk first"):
        call_command("bench_pages")
    call_command("seed_bulk", "--skus", "60", "--events", "600", stdout=StringIO())
    out = StringIO()
    call_command("bench_pages", "--requests", "2", "--warmup", "1", stdout=out)
    report = out.getvalue()
    for page in (
        "dashboard",
        "SKU list, first page",
        "SKU detail (random)",
        "audit log",
        "oversell report",
        "reconciliation",
        "admin events.InventoryEvent",
        "admin events.InventoryEvent, search 'bulk-0000000'",
        "admin sync.Order, one row",
    ):
        assert f"\n{page} " in report, report
    assert "none left out" in report
    # Wall time on a shared test machine is not asserted, only that it is judged.
    assert "target p95 <= 300 ms: " in report
