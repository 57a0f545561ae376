"""Response times of every staff page and every admin list on a large data set (run
`seed_bulk` first).

Every named URL of the staff site is either requested here or listed in ``NOT_PAGES``
with the reason (POST-only actions), and every model registered in the admin has its
list requested (and the page of one of its rows, when it has one); ``uncovered`` says
what is left out, and the run fails on it (demo/tests/test_bulk_pages.py too)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count, Model
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from api.models import ApiToken
from events.models import AuditLog, InventoryEvent
from imports.models import UploadedFile
from purchasing.models import Purchasing
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.models import SyncRun

TARGET_MS = 300
OPERATOR = "bench-pages"
SUPERUSER = "bench-pages-admin"
# Namespaces not benchmarked here: the JSON API has bench_api; the admin's pages are
# listed per registered model (admin_routes) instead of per URL pattern.
OTHER_BENCHES = ("api", "admin")
# Named URLs that are not staff pages: actions (POST only), redirects, a stream, a probe.
NOT_PAGES = {
    "set_language": "POST: switches the language",
    "sync:reconcile_now": "POST: reconciles a store now",
    "sync:push_all": "POST: starts a push of every SKU",
    "sync:auth_test": "POST: tests a store's credentials",
    "sync:poll": "POST: starts an order poll",
    "sync:sku_sync": "POST: starts a SKU sync",
    "sync:run_cancel": "POST: asks a run to stop",
    "sync:ledger_check": "POST: queues a ledger check",
    "reports:failed_retry": "POST: retries failed syncs",
    "reports:quarantine_act": "POST: retries or dismisses quarantined orders",
    "imports:confirm": "POST: applies an upload",
    "imports:cancel": "POST: cancels an upload",
    "purchasing:arrive": "POST: marks items arrived",
    "purchasing:item_status": "POST: changes an item's status",
    "ebay:connect": "POST: sends the staff member to eBay's consent screen",
    "ebay:catalog": "POST: starts reading an eBay seller's inventory or offers",
    "ebay:callback": "GET by eBay's consent screen: handles its answer and redirects",
    "sync:run_stream": "a run's Server-Sent Events (the same as JSON, sync:run_events, is timed)",
    "healthz": "the load balancer's probe, not a staff page (503 while no worker polls)",
}


@dataclass(frozen=True)
class Page:
    """One line of the report: ``route`` is the URL name it covers, ``url(n)`` the n-th
    request's address (some pages vary the row they open)."""

    name: str
    route: str
    url: Callable[[int], str]
    superuser: bool = False
    test_mode: bool = False
    # A file of the whole catalogue, not a page: timed, not held to the page target.
    download: bool = False


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def _named_routes(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _named_routes(entry.url_patterns, full)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name


def staff_routes() -> set[str]:
    """Every named URL of the staff site (the URLconf, less the API and the admin)."""
    return {
        route
        for route in _named_routes(get_resolver().url_patterns)
        if route.split(":")[0] not in OTHER_BENCHES
    }


def admin_routes() -> set[str]:
    """The list page of every model registered in the admin."""
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    }


def uncovered(pages: list[Page]) -> list[str]:
    """Staff URLs and admin lists neither requested by ``pages`` nor in NOT_PAGES."""
    covered = {page.route for page in pages} | set(NOT_PAGES)
    return sorted((staff_routes() | admin_routes()) - covered)


def _fixed(path: str) -> Callable[[int], str]:
    return lambda n: path


def _cycling(paths: list[str]) -> Callable[[int], str]:
    return lambda n: paths[n % len(paths)]


class Command(BaseCommand):
    help = (
        "p50/p95/max and queries of every staff page and admin list, requested in-process "
        "(staff pages as an operator, the admin as a superuser)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
        parser.add_argument("--warmup", type=int, default=3)
        parser.add_argument("--only", default="", help="only pages whose name contains this")

    def handle(self, *args: Any, **options: Any) -> None:
        skus = Sku.objects.count()
        if skus < 2:
            raise CommandError("Run manage.py seed_bulk first.")
        operator, _ = User.objects.get_or_create(username=OPERATOR, defaults={"is_staff": True})
        operator.groups.add(Group.objects.get(name="operator"))
        superuser, _ = User.objects.get_or_create(
            username=SUPERUSER, defaults={"is_staff": True, "is_superuser": True}
        )
        # The admin page of an API token needs one; it is deleted at the end.
        token, _key = ApiToken.objects.create(user=superuser, expiry=None, name="bench_pages")
        try:
            pages = self.pages()
            missing = uncovered(pages)
            if missing:
                raise CommandError(f"Not benchmarked: {', '.join(missing)}")
            self.run(pages, operator, superuser, options)
        finally:
            ApiToken.objects.filter(pk=token.pk).delete()

    def pages(self) -> list[Page]:
        """Every page, with rows found by queries (no seed_bulk names assumed)."""
        store = (
            StoreSku.objects.values("store_id")
            .annotate(n=Count("id"))
            .order_by("-n", "store_id")
            .values_list("store_id", flat=True)
            .first()
        ) or Store.objects.values_list("store_id", flat=True).first()
        other_platform = (
            Store.objects.exclude(platform_type=Store.Platform.RAKUTEN)
            .values_list("store_id", flat=True)
            .first()
        )
        filtered = Sku.objects.filter(registrations__store_id=store, status="active")
        deep_after = (
            filtered.order_by("sku_id").values_list("sku_id", flat=True)[
                max(0, filtered.count() * 9 // 10 - 1)
            ]
            if filtered.exists()
            else ""
        )
        busiest = (
            InventoryEvent.objects.values("sku_id")
            .annotate(n=Count("event_id"))
            .order_by("-n")
            .values_list("sku_id", "n")
            .first()
        )
        busiest_id, busiest_events = busiest or (Sku.objects.values_list("pk", flat=True)[0], 0)
        timeline_page = max(1, busiest_events // 100)
        sample = list(Sku.objects.order_by("?").values_list("sku_id", flat=True)[:50])
        fragment = sample[0][len(sample[0]) // 2 :]  # the middle of an id: trigram search
        run = SyncRun.objects.order_by("-started_at").first()
        upload = (
            UploadedFile.objects.filter(status=UploadedFile.Status.PENDING)
            .order_by("-created_at")
            .first()
        )
        purchase = Purchasing.objects.order_by("-created_at", "-pk").first()
        newest = InventoryEvent.objects.order_by("-created_at", "-event_id")
        order_event = newest.filter(order_id__isnull=False).first()
        manual_event = newest.filter(source="manual").first()
        audit_user = AuditLog.objects.order_by("-created_at").values_list("user", flat=True).first()
        skus_url = reverse("skus:list")
        store_filter = f"{skus_url}?store={store}&status=active"
        pages = [
            Page("dashboard", "sync:dashboard", _fixed(reverse("sync:dashboard"))),
            Page("stores", "sync:stores", _fixed(reverse("sync:stores"))),
            Page(f"store {store}", "sync:store", _fixed(reverse("sync:store", args=[store]))),
            Page(
                f"store {store}, registrations page 500",
                "sync:store",
                _fixed(f"{reverse('sync:store', args=[store])}?page=500"),
            ),
            Page("SKU list, first page", "skus:list", _fixed(skus_url)),
            Page("SKU list, store + status filter", "skus:list", _fixed(store_filter)),
            Page(
                "SKU list, store + status, 90% deep (keyset)",
                "skus:list",
                _fixed(f"{store_filter}&after={deep_after}"),
            ),
            Page(
                "SKU list, store + status, page before it",
                "skus:list",
                _fixed(f"{store_filter}&before={deep_after}"),
            ),
            Page(
                "SKU list, search 'towel' + low stock",
                "skus:list",
                _fixed(f"{skus_url}?q=towel&low=1"),
            ),
            Page(f"SKU list, search '{fragment}'", "skus:list", _fixed(f"{skus_url}?q={fragment}")),
            Page("SKU list, oversold filter", "skus:list", _fixed(f"{skus_url}?oversold=1")),
            Page(
                "SKU detail (random)",
                "skus:detail",
                _cycling([reverse("skus:detail", args=[sku_id]) for sku_id in sample]),
            ),
            Page(
                f"SKU detail, busiest, timeline page {timeline_page}",
                "skus:detail",
                _fixed(f"{reverse('skus:detail', args=[busiest_id])}?page={timeline_page}"),
            ),
            Page("audit log", "reports:audit", _fixed(reverse("reports:audit"))),
            Page(
                "audit log, user + action filter",
                "reports:audit",
                _fixed(f"{reverse('reports:audit')}?user=aiko&action=stock.adjust"),
            ),
            Page("oversell report", "reports:oversell", _fixed(reverse("reports:oversell"))),
            Page("reconciliation", "reports:reconcile", _fixed(reverse("reports:reconcile"))),
            Page("failed syncs", "reports:failed", _fixed(reverse("reports:failed"))),
            Page("quarantine", "reports:quarantine", _fixed(reverse("reports:quarantine"))),
            Page(
                "test reset (test mode)",
                "reports:test_reset",
                _fixed(reverse("reports:test_reset")),
                superuser=True,
                test_mode=True,
            ),
            Page("import upload", "imports:upload", _fixed(reverse("imports:upload"))),
            Page("import template.csv", "imports:template", _fixed(reverse("imports:template"))),
            Page(
                "export.csv (every SKU; a download)",
                "imports:export",
                _fixed(reverse("imports:export")),
                download=True,
            ),
            Page("purchases", "purchasing:list", _fixed(reverse("purchasing:list"))),
        ]
        if other_platform:
            pages.append(
                Page(
                    f"store {other_platform}",
                    "sync:store",
                    _fixed(reverse("sync:store", args=[other_platform])),
                )
            )
        if run is not None:
            for name, route in [
                ("run progress (JSON)", "sync:run_progress"),
                ("run page (live log)", "sync:run"),
                ("run log lines (JSON)", "sync:run_events"),
            ]:
                pages.append(Page(name, route, _fixed(reverse(route, args=[run.pk]))))
        if upload is not None:
            url = reverse("imports:preview", args=[upload.file_id])
            pages.append(Page("import preview", "imports:preview", _fixed(url)))
        if purchase is not None:
            url = reverse("purchasing:detail", args=[purchase.pk])
            pages.append(Page("purchase", "purchasing:detail", _fixed(url)))
        pages += self.admin_pages(
            searches={
                InventoryEvent: [
                    busiest_id,
                    order_event.order_id if order_event else "",
                    f"operator:{manual_event.operator}" if manual_event else "",
                ],
                Sku: ["towel", fragment],
                AuditLog: [audit_user or ""],
            },
            sku_id=busiest_id,
        )
        return pages

    def admin_pages(self, *, searches: dict[type[Model], list[str]], sku_id: str) -> list[Page]:
        """Every registered model's list, a search on the big ones (by a SKU id unless
        given), and the page of its newest row."""
        big = {"inventoryevent", "inventorysnapshot", "auditlog", "pendingpush", "sku"}
        big |= {"order", "orderline", "storesku", "rakutenbinding", "syncrun"}
        pages = []
        for model, model_admin in sorted(
            admin.site._registry.items(), key=lambda item: item[0]._meta.label
        ):
            meta = model._meta
            route = f"admin:{meta.app_label}_{meta.model_name}_changelist"
            changelist = reverse(route)
            pages.append(Page(f"admin {meta.label}", route, _fixed(changelist), superuser=True))
            terms = searches.get(model) if model_admin.search_fields else None
            if terms is None and meta.model_name in big and model_admin.search_fields:
                terms = [sku_id]
                if meta.model_name in {"order", "orderline"}:
                    number = model.objects.values_list(
                        "order_number" if meta.model_name == "order" else "order__order_number",
                        flat=True,
                    ).first()
                    terms = [number or sku_id]
            for term in [t for t in terms or [] if t]:
                pages.append(
                    Page(
                        f"admin {meta.label}, search '{term}'",
                        route,
                        _fixed(f"{changelist}?q={term}"),
                        superuser=True,
                    )
                )
            ordering = model_admin.get_ordering(_FakeRequest()) or ("-pk",)
            newest = model.objects.order_by(*ordering).values_list("pk", flat=True).first()
            if newest is not None:
                url = reverse(
                    f"admin:{meta.app_label}_{meta.model_name}_change", args=[quote(newest)]
                )
                pages.append(
                    Page(
                        f"admin {meta.label}, one row",
                        f"admin:{meta.app_label}_{meta.model_name}_change",
                        _fixed(url),
                        superuser=True,
                    )
                )
        return pages

    def run(self, pages: list[Page], operator: User, superuser: User, options: dict) -> None:
        staff = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        staff.force_login(operator)
        admin_client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        admin_client.force_login(superuser)
        pages = [page for page in pages if options["only"] in page.name]
        width = max(len(page.name) for page in pages) + 2
        self.stdout.write(
            f"{connection.vendor}, {Sku.objects.count()} SKUs, "
            f"{InventoryEvent.objects.count()} events; {len(pages)} pages, "
            f"{options['requests']} requests each after {options['warmup']} warm-up"
        )
        self.stdout.write(
            f"{'page':<{width}} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}"
        )
        over = []
        with override_settings(DEBUG=False):
            for page in pages:
                client = admin_client if page.superuser else staff
                test_mode = page.test_mode or settings.INVENTORY_TEST_MODE
                with override_settings(INVENTORY_TEST_MODE=test_mode):
                    for n in range(options["warmup"]):
                        self._get(client, page.url(n))
                    times = []
                    queries = 0
                    for n in range(options["requests"]):
                        started = time.perf_counter()
                        queries = self._get(client, page.url(n))
                        times.append((time.perf_counter() - started) * 1000)
                p95 = percentile(times, 0.95)
                if p95 > TARGET_MS and not page.download:
                    over.append(page.name)
                self.stdout.write(
                    f"{page.name:<{width}} {statistics.median(times):8.1f} {p95:8.1f} "
                    f"{max(times):8.1f} {queries:8d}"
                )
        self.stdout.write(
            f"coverage: {len(staff_routes())} staff URLs ({len(NOT_PAGES)} of them not pages) "
            f"and {len(admin_routes())} admin lists, none left out"
        )
        self.stdout.write(
            f"target p95 <= {TARGET_MS} ms: "
            + ("met on every page" if not over else f"MISSED on {', '.join(over)}")
            + " (downloads of the whole catalogue are timed, not held to it)"
        )

    def _get(self, client: Client, url: str) -> int:
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        return counter.count


class _FakeRequest:
    """What ModelAdmin.get_ordering reads of a request (nothing, by default)."""

    GET: dict[str, str] = {}


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
