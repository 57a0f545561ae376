"""seed_bulk makes a consistent large data set; bench_pages times every page on it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events.models import AuditLog, InventoryEvent, PendingPush
from events.selectors import snapshot_drift
from skus.models import Sku
from stores.models import StoreSku

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
    assert StoreSku.objects.filter(sku__sku_id__startswith="bulk-").count() == 40 + 26 + 13
    assert AuditLog.objects.count() == 25
    assert PendingPush.objects.filter(status="failed").exists()
    with pytest.raises(CommandError, match="Bulk data is there already"):
        call_command("seed_bulk", "--skus", "40", "--events", "400")
    with pytest.raises(CommandError, match="one event per SKU"):
        call_command("seed_bulk", "--skus", "40", "--events", "10")


def test_bench_pages_times_every_page():
    with pytest.raises(CommandError, match="seed_bulk first"):
        call_command("bench_pages")
    call_command("seed_bulk", "--skus", "60", "--events", "600", stdout=StringIO())
    out = StringIO()
    call_command("bench_pages", "--requests", "2", "--warmup", "1", stdout=out)
    report = out.getvalue()
    for page in ("dashboard", "SKU list, first page", "SKU detail", "audit log", "oversell report"):
        assert f"\n{page} " in report
    assert "target p95 <= 300 ms: met on every page" in report
