"""Issue 17's figures for purchasing, measured in a scratch database of their own.

Three parts, all in ``<db>_bench_purchasing`` (created, migrated and dropped here):

- seed: ``--purchases`` purchase orders with 3 items each, a few hundred official
  accounts, varied statuses, batch codes, tracking and order numbers, some soft-deleted,
  some locked (``bulk_create`` in batches, then ``VACUUM (ANALYZE)`` on PostgreSQL);
- latency: p50/p95/max of spec 001's ``GET /api/aggregation/purchasing/`` (filters,
  search, ordering, a deep page, one purchase) in-process (``APIClient`` with the
  spec's bearer token), in interleaved rounds, against p95 <= 300 ms (issue 15's target
  for the staff pages: the one used here);
- claims: ``--workers`` processes (PostgreSQL only), each with its own connection,
  looping ``purchase_claim`` then ``purchase_release`` for ``--seconds``; claims/s, and a
  check that no purchase was held by two workers at once and that every claim was
  released.

The API is requested by its URL only (``reverse``): purchasing does not import ``api``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import multiprocessing
import random
import secrets
import statistics
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.models import Count, Q
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from inventory_site.benchmarks import scratch_database
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from purchasing.services import purchase_claim, purchase_release

TARGET_MS = 300  # issue 15's p95 target for the staff pages, used here too
THROTTLE_RATE = "1000000/minute"
PAGE_SIZE = 50  # the API's page (api.base.Pages)
BATCH = 5000
ITEMS_PER_PURCHASE = 3
WORKER_PREFIX = "bench-w"
SEED_LOCK_WORKER = "seed-tracker"
STATUSES = [
    (Purchasing.DeliveryStatus.PENDING_CONFIRMATION, 15),
    (Purchasing.DeliveryStatus.SHIPPED, 20),
    (Purchasing.DeliveryStatus.IN_DELIVERY, 15),
    (Purchasing.DeliveryStatus.DELIVERED, 50),
]
SOURCES = ["official-site-crawler", "manual", "csv-import", "api", None]
SHIPPING = ["ヤマト運輸", "佐川急便", "日本郵便", None]
ITEM_STATUSES = [
    (InventoryItem.Status.IN_TRANSIT, 55),
    (InventoryItem.Status.ARRIVED, 40),
    (InventoryItem.Status.OUT_OF_STOCK, 3),
    (InventoryItem.Status.ABNORMAL, 2),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Line:
    """One kind of request: ``request(n)`` sends the n-th one and returns the response."""

    name: str
    request: Callable[[int], Any]
    times: list[float] = field(default_factory=list)
    round_p95: list[float] = field(default_factory=list)
    queries: int = 0


@contextmanager
def _own_timestamps() -> Iterator[None]:
    """Let the seed set ``created_at``/``updated_at`` (spread over two years) instead of
    ``auto_now_add``/``auto_now`` stamping every row with the seeding time."""
    fields = [Purchasing._meta.get_field(name) for name in ("created_at", "updated_at")]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class _Recorder:
    """Counts a request's queries; with ``keep``, records each (sql, params, ms)."""

    def __init__(self, keep: bool = False) -> None:
        self.count = 0
        self.keep = keep
        self.queries: list[tuple[str, Any, float]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if self.keep:
                self.queries.append((sql, params, (time.perf_counter() - began) * 1000))


class Command(BaseCommand):
    help = (
        "Issue 17: seed purchases in a scratch database, time the purchasing API's list "
        "(filters, search, ordering, deep page) in-process against p95 <= 300 ms, then "
        "claims/s with concurrent worker processes (PostgreSQL) and a lock check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--purchases", type=int, default=100_000)
        parser.add_argument("--accounts", type=int, default=300, help="official accounts")
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument(
            "--requests", type=int, default=30, help="timed requests per line and round"
        )
        parser.add_argument("--warmup", type=int, default=2, help="untimed requests per line")
        parser.add_argument("--workers", type=int, default=8, help="claims: worker processes")
        parser.add_argument("--seconds", type=float, default=15.0, help="claims: duration")
        parser.add_argument(
            "--claim-limit",
            type=int,
            nargs="+",
            default=[1, 10],
            help="claims: the limit of each claim; one run per value (default: 1 then 10)",
        )
        parser.add_argument(
            "--only", choices=["latency", "claims"], help="run one part (default: both)"
        )
        parser.add_argument("--seed", type=int, default=17)

    def handle(self, *args: Any, **options: Any) -> None:
        if min(options["purchases"], options["rounds"], options["requests"]) < 1:
            raise CommandError("--purchases, --rounds and --requests must be at least 1.")
        if options["workers"] < 1 or min(options["claim_limit"]) < 1:
            raise CommandError("--workers and --claim-limit must be at least 1.")
        if settings.DEBUG:
            raise CommandError("Benchmarks run with debug off: unset DJANGO_DEBUG.")
        self.random = random.Random(options["seed"])
        vendor = connection.vendor
        with scratch_database("bench_purchasing") as name:
            self.stdout.write(f"{vendor}, scratch database {name}")
            self.seed(options["purchases"], options["accounts"])
            missed = None
            if options["only"] != "claims":
                missed = self.latency(options)
            if options["only"] != "latency":
                if vendor != "postgresql":
                    self.stdout.write(
                        f"claims: skipped: needs PostgreSQL (this is {vendor}, which "
                        f"serializes writers and has no SELECT ... FOR UPDATE SKIP LOCKED)"
                    )
                else:
                    for limit in options["claim_limit"]:
                        self.claims(options["workers"], limit, options["seconds"])
            if missed is not None:
                self.stdout.write(
                    f"latency target p95 <= {TARGET_MS} ms (issue 15's staff-page target) "
                    "on every request: "
                    + ("target met" if not missed else f"target MISSED ({', '.join(missed)})")
                )

    # --- seed -----------------------------------------------------------------------------

    def seed(self, purchases: int, n_accounts: int) -> None:
        rng = self.random
        began = time.perf_counter()
        n_accounts = max(1, min(n_accounts, purchases))
        accounts = OfficialAccount.objects.bulk_create(
            OfficialAccount(
                account_id=f"official-{i:04d}",
                email=f"buyer{i}@example.com",
                name=f"Buyer {i}",
            )
            for i in range(n_accounts)
        )
        n_batches = max(1, purchases // 200)  # ~200 purchases per batch code
        batch_codes = [f"B{2025 + i % 2}-{i:05d}" for i in range(n_batches)]
        statuses = [s for s, _ in STATUSES]
        status_weights = [w for _, w in STATUSES]
        item_statuses = [s for s, _ in ITEM_STATUSES]
        item_weights = [w for _, w in ITEM_STATUSES]
        now = timezone.now()
        span = dt.timedelta(days=730).total_seconds()
        made = items_made = 0
        with _own_timestamps():
            while made < purchases:
                rows = []
                for i in range(made, min(purchases, made + BATCH)):
                    created = now - dt.timedelta(
                        seconds=span * (purchases - i) / purchases + rng.random() * 60
                    )
                    status = rng.choices(statuses, status_weights)[0]
                    pending = status == Purchasing.DeliveryStatus.PENDING_CONFIRMATION
                    locked = rng.random() < 0.01
                    code = rng.choice(batch_codes)
                    rows.append(
                        Purchasing(
                            # uuid: the field's default (new_purchasing_uuid, 192 random bits)
                            order_number=None
                            if rng.random() < 0.03
                            else f"PO{i:08d}{rng.randint(0, 99):02d}",
                            official_account=rng.choice(accounts) if rng.random() < 0.95 else None,
                            batch_encoding=code,
                            batch_level_1=code[:5],
                            batch_level_2=f"L2-{rng.randint(1, 20)}",
                            batch_level_3=f"L3-{rng.randint(1, 200)}",
                            created_at=created,
                            updated_at=created + dt.timedelta(hours=rng.randint(0, 400)),
                            confirmed_at=None if pending else created + dt.timedelta(hours=2),
                            shipped_at=None if pending else created + dt.timedelta(days=2),
                            tracking_number="" if pending else f"{rng.randrange(10**11, 10**12)}",
                            shipping_method=rng.choice(SHIPPING),
                            delivery_status=status,
                            account_used=f"acct-{rng.randint(1, 50)}",
                            payment_method=rng.choice(["credit card", "bank transfer", ""]),
                            is_locked=locked,
                            locked_at=now if locked else None,
                            locked_by_worker=SEED_LOCK_WORKER if locked else "",
                            is_deleted=rng.random() < 0.02,
                            creation_source=rng.choice(SOURCES),
                        )
                    )
                rows = Purchasing.objects.bulk_create(rows)
                if any(row.pk is None for row in rows):  # a database returning no ids
                    ids = dict(
                        Purchasing.objects.filter(uuid__in=[r.uuid for r in rows]).values_list(
                            "uuid", "pk"
                        )
                    )
                    for row in rows:
                        row.pk = ids[row.uuid]
                items = [
                    InventoryItem(
                        purchase_id=row.pk,
                        flag=f"F{k}",
                        status=rng.choices(item_statuses, item_weights)[0],
                        product_type=rng.choice(["phone", "tablet", "case", None]),
                        quantity=rng.randint(1, 5),
                    )
                    for row in rows
                    for k in range(ITEMS_PER_PURCHASE)
                ]
                InventoryItem.objects.bulk_create(items, batch_size=BATCH)
                made += len(rows)
                items_made += len(items)
        seeded = time.perf_counter() - began
        analyzed = ""
        if connection.vendor == "postgresql":
            began = time.perf_counter()
            with connection.cursor() as cursor:
                for model in (OfficialAccount, Purchasing, InventoryItem):
                    cursor.execute(
                        f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}"
                    )
            analyzed = f", then VACUUM (ANALYZE) {time.perf_counter() - began:.1f} s"
        counts = Purchasing.objects.aggregate(
            deleted=Count("pk", filter=Q(is_deleted=True)),
            locked=Count("pk", filter=Q(is_locked=True)),
        )
        self.stdout.write(
            f"seed: {made:,} purchases ({counts['deleted']:,} soft-deleted, "
            f"{counts['locked']:,} locked by {SEED_LOCK_WORKER!r}), {items_made:,} items, "
            f"{len(accounts)} official accounts, {len(batch_codes)} batch codes in "
            f"{seeded:.1f} s (bulk_create, {BATCH} a batch){analyzed}"
        )

    # --- latency, in-process ----------------------------------------------------------------

    def latency(self, options: dict[str, Any]) -> list[str]:
        token = secrets.token_urlsafe(32)
        client = APIClient(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        rounds, n = options["rounds"], options["requests"]
        rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": THROTTLE_RATE}}
        with override_settings(DEBUG=False, BATCH_STATS_API_TOKEN=token, REST_FRAMEWORK=rest):
            lines = self.lines(client)
            self.stdout.write(
                f"latency: in-process APIClient (Authorization: Bearer, no HTTP server, one "
                f"reused database connection), {rounds} round(s) x {n} requests per line after "
                f"{options['warmup']} warm-up, lines interleaved request by request; throttle "
                f"raised to {THROTTLE_RATE} in this process"
            )
            for i in range(options["warmup"]):
                for line in lines:
                    line.request(i)
            for r in range(rounds):
                start = len(lines[0].times)
                for i in range(n):
                    for line in lines:
                        counter = _Recorder()
                        with connection.execute_wrapper(counter):
                            began = time.perf_counter()
                            line.request(r * n + i)
                            line.times.append((time.perf_counter() - began) * 1000)
                        line.queries = counter.count
                for line in lines:
                    line.round_p95.append(percentile(line.times[start:], 0.95))
            width = max(len(line.name) for line in lines) + 1
            self.stdout.write(
                f"{'request':<{width}} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
                f"{'queries':>7}  {'p95 over rounds min/median/max ms':>33}"
            )
            missed = []
            for line in lines:
                p95 = percentile(line.times, 0.95)
                over = (
                    f"{min(line.round_p95):.1f} / {statistics.median(line.round_p95):.1f} / "
                    f"{max(line.round_p95):.1f}"
                )
                verdict = "ok" if p95 <= TARGET_MS else "MISSED"
                if verdict != "ok":
                    missed.append(line)
                self.stdout.write(
                    f"{line.name:<{width}} {len(line.times):5d} "
                    f"{statistics.median(line.times):7.1f} {p95:7.1f} {max(line.times):7.1f} "
                    f"{line.queries:7d}  {over:>33}  {verdict}"
                )
            for line in missed:
                self.explain(line)
        return [line.name for line in missed]

    def explain(self, line: Line) -> None:
        """Why a line missed: its slowest queries, and their plan on PostgreSQL."""
        recorder = _Recorder(keep=True)
        with connection.execute_wrapper(recorder):
            line.request(0)
        slowest = sorted(recorder.queries, key=lambda q: -q[2])[:2]
        for sql, params, ms in slowest:
            self.stdout.write(f"why {line.name}: a query of {ms:.1f} ms: {sql[:160]}...")
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}", params)
                plan = [row[0] for row in cursor.fetchall()]
            for row in plan:
                if any(
                    k in row for k in ("Scan", "Execution Time", "Rows Removed", "Sort", "Join")
                ):
                    self.stdout.write(f"    {row.strip()[:150]}")

    def lines(self, client: APIClient) -> list[Line]:
        """The requests, on values found in the seeded data."""
        rng = self.random
        url = reverse("api:purchasings")
        visible = Purchasing.objects.filter(is_deleted=False)
        last_page = max(1, math.ceil(visible.count() / PAGE_SIZE))
        deep = max(1, last_page * 9 // 10)
        batch = (
            visible.values("batch_encoding")
            .annotate(n=Count("pk"))
            .order_by("-n", "batch_encoding")
            .values_list("batch_encoding", "n")[0]
        )
        account = (
            visible.exclude(official_account=None)
            .values("official_account")
            .annotate(n=Count("pk"))
            .order_by("-n", "official_account")
            .values_list("official_account", "n")[0]
        )
        sample = list(visible.order_by("?").values_list("pk", flat=True)[:200])
        numbered = visible.exclude(order_number=None).order_by("?")
        order_number = numbered.values_list("order_number", flat=True)[0]
        part = order_number[3:9]  # e.g. "000123" of "PO0001234567"
        part_hits = visible.filter(order_number__icontains=part).count()
        tracking = (
            visible.exclude(tracking_number="")
            .order_by("?")
            .values_list("tracking_number", flat=True)[0]
        )

        def get(path: str) -> Any:
            response = client.get(path)
            if response.status_code != 200:
                raise CommandError(
                    f"GET {path} answered {response.status_code}: {response.content[:300]!r}"
                )
            return response

        def line(name: str, query: str) -> Line:
            return Line(name, lambda n: get(f"{url}?{query}" if query else url))

        return [
            line("GET list (first page)", ""),
            line("GET ?delivery_status=in_delivery", "delivery_status=in_delivery"),
            line(
                f"GET ?batch_encoding={batch[0]} ({batch[1]} purchases)",
                f"batch_encoding={batch[0]}",
            ),
            line(
                f"GET ?official_account={account[0]} ({account[1]} purchases)",
                f"official_account={account[0]}",
            ),
            line("GET ?is_locked=true", "is_locked=true"),
            line("GET ?is_deleted=true", "is_deleted=true"),
            line(
                f"GET ?search={part} (part of an order number, {part_hits} hits)", f"search={part}"
            ),
            line("GET ?search=<a full tracking number>", f"search={tracking}"),
            line("GET ?ordering=-updated_at", "ordering=-updated_at"),
            line(f"GET ?page={deep} (of {last_page})", f"page={deep}"),
            Line(
                "GET {id}/ (random)",
                lambda n: get(reverse("api:purchasing", args=[rng.choice(sample)])),
            ),
        ]

    # --- claims, concurrent worker processes --------------------------------------------------

    def claims(self, workers: int, limit: int, seconds: float) -> None:
        self.stdout.write(
            f"claims: {workers} worker processes (fork, a database connection each) x "
            f"{seconds:g} s of purchase_claim(limit={limit}) then purchase_release of each"
        )
        connections.close_all()  # the children open their own
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        start = context.Event()
        processes = [
            context.Process(
                target=_worker, args=(f"{WORKER_PREFIX}{i}", limit, seconds, start, queue)
            )
            for i in range(workers)
        ]
        for process in processes:
            process.start()
        start.set()
        results = [queue.get(timeout=seconds + 120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        failed = [r["error"] for r in results if r["error"]]
        if failed:
            raise CommandError(f"a worker failed: {failed[0]}")
        self.report_claims(results, workers, limit)

    def report_claims(self, results: list[dict[str, Any]], workers: int, limit: int) -> None:
        began = min(r["began"] for r in results)
        ended = max(r["ended"] for r in results)
        elapsed = ended - began
        calls = sum(r["calls"] for r in results)
        empty = sum(r["empty"] for r in results)
        held = [(pk, r["worker"], a, b) for r in results for pk, a, b in r["intervals"]]
        per_worker = sorted(len(r["intervals"]) / (r["ended"] - r["began"]) for r in results)
        latencies = [ms for r in results for ms in r["claim_ms"]]
        self.stdout.write(
            f"claims (limit {limit}): {len(held)} purchases claimed and released in "
            f"{calls} claims in {elapsed:.1f} s = {len(held) / elapsed:.1f} purchases/s, "
            f"{calls / elapsed:.1f} claim calls/s with {workers} workers; per worker min "
            f"{per_worker[0]:.1f}, median {statistics.median(per_worker):.1f}, max "
            f"{per_worker[-1]:.1f} purchases/s; purchase_claim p50 "
            f"{statistics.median(latencies) if latencies else 0:.1f} ms, p95 "
            f"{percentile(latencies, 0.95) if latencies else 0:.1f} ms; empty claims {empty}"
        )
        by_purchase: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
        for pk, worker, a, b in held:
            by_purchase[pk].append((a, b, worker))
        overlaps = []
        for pk, spans in by_purchase.items():
            spans.sort()
            for (_a1, b1, w1), (a2, _b2, w2) in itertools.pairwise(spans):
                if a2 < b1:
                    overlaps.append((pk, w1, w2))
        left = Purchasing.objects.filter(
            Q(locked_by_worker__startswith=WORKER_PREFIX)
            | (Q(is_locked=True) & ~Q(locked_by_worker=SEED_LOCK_WORKER))
        ).count()
        wrong = sum(r["wrong_holder"] for r in results)
        ok = not overlaps and not left and not wrong
        self.stdout.write(
            f"consistency (limit {limit}): {len(held)} holds of {len(by_purchase)} purchases, "
            + (
                f"{len(overlaps)} OVERLAPPING across workers {overlaps[:3]}"
                if overlaps
                else "no two workers held one purchase at once"
            )
            + f"; {wrong} claimed purchase(s) not showing the claiming worker"
            + f"; {left} purchase(s) left locked by a bench worker: "
            + ("ok" if ok else "FAILED")
        )
        if not ok:
            raise CommandError("the claims run broke the lock rule (see consistency above)")


def _worker(name: str, limit: int, seconds: float, start: Any, queue: Any) -> None:
    """Claim then release until the time is up. A hold is recorded from the return of the
    claim to the call of the release: inside the real hold (claim commit to release
    commit), so two recorded holds of one purchase overlapping means a real double hold."""
    intervals: list[tuple[int, float, float]] = []
    claim_ms: list[float] = []
    calls = empty = wrong = 0
    error = ""
    start.wait()
    began = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
    deadline = began + seconds
    try:
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            claimed = purchase_claim(worker=name, limit=limit)
            got = time.monotonic()
            claim_ms.append((time.perf_counter() - sent) * 1000)
            calls += 1
            if not claimed:
                empty += 1
                continue
            wrong += sum(1 for p in claimed if not p.is_locked or p.locked_by_worker != name)
            for purchase in claimed:
                releasing = time.monotonic()
                purchase_release(purchase_id=purchase.pk, worker=name)
                intervals.append((purchase.pk, got, releasing))
    except Exception:  # reported by the parent
        error = traceback.format_exc(limit=5)
    finally:
        connections.close_all()
    queue.put(
        {
            "worker": name,
            "intervals": intervals,
            "claim_ms": claim_ms,
            "calls": calls,
            "empty": empty,
            "wrong_holder": wrong,
            "began": began,
            "ended": time.monotonic(),
            "error": error,
        }
    )
