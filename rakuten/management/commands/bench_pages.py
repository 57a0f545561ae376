"""Response times of the staff pages on a large data set (run `seed_bulk` first)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from events.models import InventoryEvent
from rakuten.management.commands.seed_bulk import PREFIX
from skus.models import Sku

TARGET_MS = 300
BENCH_USER = "bench-pages"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


class Command(BaseCommand):
    help = "p50/p95 of each staff page, requested in-process as a logged-in operator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
        parser.add_argument("--warmup", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        skus = Sku.objects.count()
        if skus < 2:
            raise CommandError("Run manage.py seed_bulk first.")
        user, _ = User.objects.get_or_create(username=BENCH_USER, defaults={"is_staff": True})
        user.groups.add(Group.objects.get(name="operator"))
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        client.force_login(user)
        store = (
            Sku.objects.filter(registrations__isnull=False)
            .values_list("registrations__store_id", flat=True)
            .first()
        )
        filtered = Sku.objects.filter(registrations__store_id=store, status="active").count()
        deep = max(1, (filtered // 50) * 9 // 10)
        # seed_bulk's first SKU is its bestseller, with the longest timeline.
        busiest = Sku.objects.order_by("sku_id").filter(sku_id__startswith=PREFIX).first()
        busiest_id = busiest.sku_id if busiest else Sku.objects.order_by("sku_id")[0].sku_id
        timeline_page = max(1, InventoryEvent.objects.filter(sku_id=busiest_id).count() // 100)
        sample = list(Sku.objects.order_by("?").values_list("sku_id", flat=True)[:50])
        pages = [
            ("dashboard", lambda n: reverse("sync:dashboard")),
            ("SKU list, first page", lambda n: reverse("skus:list")),
            (
                "SKU list, store + status filter, first page",
                lambda n: f"{reverse('skus:list')}?store={store}&status=active",
            ),
            (
                f"SKU list, store + status filter, page {deep}",
                lambda n: f"{reverse('skus:list')}?store={store}&status=active&page={deep}",
            ),
            (
                "SKU list, search 'towel' + low stock",
                lambda n: f"{reverse('skus:list')}?q=towel&low=1",
            ),
            ("SKU list, oversold filter", lambda n: f"{reverse('skus:list')}?oversold=1"),
            ("SKU detail", lambda n: reverse("skus:detail", args=[sample[n % len(sample)]])),
            (
                f"SKU detail, bestseller, timeline page {timeline_page}",
                lambda n: f"{reverse('skus:detail', args=[busiest_id])}?page={timeline_page}",
            ),
            ("audit log", lambda n: reverse("reports:audit")),
            (
                "audit log, user + action filter",
                lambda n: f"{reverse('reports:audit')}?user=aiko&action=stock.adjust",
            ),
            ("oversell report", lambda n: reverse("reports:oversell")),
        ]
        self.stdout.write(
            f"{connection.vendor}, {skus} SKUs, {InventoryEvent.objects.count()} events; "
            f"{options['requests']} requests per page after {options['warmup']} warm-up"
        )
        self.stdout.write(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
        over = []
        with override_settings(DEBUG=False):
            for name, url in pages:
                for n in range(options["warmup"]):
                    self._get(client, url(n))
                times = []
                queries = 0
                for n in range(options["requests"]):
                    started = time.perf_counter()
                    queries = self._get(client, url(n))
                    times.append((time.perf_counter() - started) * 1000)
                p95 = percentile(times, 0.95)
                if p95 > TARGET_MS:
                    over.append(name)
                self.stdout.write(
                    f"{name:<48} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f} "
                    f"{queries:8d}"
                )
        self.stdout.write(
            f"target p95 <= {TARGET_MS} ms: "
            + ("met on every page" if not over else f"MISSED on {', '.join(over)}")
        )

    def _get(self, client: Client, url: str) -> int:
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        return counter.count


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
