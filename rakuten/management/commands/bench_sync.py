"""Sync engine benchmarks against the RMS sandbox with its real rate limits.

1. Full push of N SKUs to one store: calls, 429s and wall time against the
   rate-limit bound of ceil(N/400) seconds (bulk-upsert: 400 rows, 1 call/s).
2. Order-to-other-store latency over a simulated hour of orders at a 1-minute
   poll interval: from the moment a buyer orders in one store to the moment the
   other stores have been told the new stock.

Runs in a scratch database it creates and drops; the sandbox runs in-process.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from events.actors import Actor
from events.models import EventSource, EventType, InventorySnapshot, PendingPush
from events.services import event_record
from inventory_site.benchmarks import scratch_database
from rakuten.models import RakutenBinding
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from rakuten.types import JST, QUANTITY_MAX
from skus.models import Sku
from stores.models import Store, StoreSku
from stores.services import store_create
from sync.models import PollState
from sync.orders import orders_poll
from sync.push import push_quantity, push_run, stores_with_due_pushes
from sync.ratelimit import limiter

VARIANTS_PER_ITEM = 100


def _sandbox_process() -> tuple[subprocess.Popen, str]:
    """`manage.py rakuten_sandbox` on a free port, with the documented rate limits."""
    process = subprocess.Popen(
        [sys.executable, "-u", "manage.py", "rakuten_sandbox", "--port", "0"],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if "RMS sandbox on" not in line:
        process.kill()
        raise CommandError(f"the sandbox did not start: {line!r}")
    return process, line.split()[3]


class Command(BaseCommand):
    help = "Measure a full push of N SKUs and order-to-other-store latency against the sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skus", type=int, default=100_000, help="SKUs in the full push.")
        parser.add_argument("--orders-per-hour", type=int, default=600)
        parser.add_argument("--stores", type=int, default=3)
        parser.add_argument("--minutes", type=int, default=60, help="Simulated minutes.")
        parser.add_argument("--only", choices=["push", "latency"], help="Run one part only.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["skus"] < 1 or options["stores"] < 2:
            raise CommandError("--skus must be at least 1 and --stores at least 2.")
        self.stdout.write(f"database: {connection.vendor}")
        logging.getLogger("rakuten").setLevel(logging.WARNING)
        if options["only"] in (None, "push"):
            with scratch_database("bench_sync"):
                self._full_push(options["skus"])
        if options["only"] in (None, "latency"):
            with scratch_database("bench_sync"):
                self._latency(
                    options["stores"],
                    options["orders_per_hour"],
                    options["minutes"],
                    random.Random(options["seed"]),
                )

    # --- 1. full push ---------------------------------------------------------------

    def _full_push(self, n: int) -> None:
        # RMS is another machine: the sandbox runs as its own process here, so its
        # work does not share this process's interpreter lock with the pusher's.
        process, url = _sandbox_process()
        limiter.reset()
        try:
            store_id = "bench-push"
            secret, key = f"SP-{store_id}", f"SL-{store_id}"
            started = time.perf_counter()
            items = [
                {
                    "manageNumber": f"item{start // VARIANTS_PER_ITEM}",
                    "variants": [
                        {"variantId": f"B{i:06d}", "quantity": 0}
                        for i in range(start, min(start + VARIANTS_PER_ITEM, n))
                    ],
                }
                for start in range(0, n, VARIANTS_PER_ITEM)
            ]
            answer = requests.post(
                f"{url}/_sandbox/shops",
                json={
                    "shopId": store_id,
                    "serviceSecret": secret,
                    "licenseKey": key,
                    "items": items,
                },
                timeout=300,
            )
            answer.raise_for_status()
            store = store_create(
                store_id=store_id,
                store_name=store_id,
                api_config={"base_url": url},
                credentials={"service_secret": secret, "license_key": key},
                actor=Actor.system("bench"),
            )
            self._catalogue(None, store, n, stock=lambda i: (i * 7) % 60)
            PendingPush.objects.bulk_create(
                (PendingPush(store=store, sku_id=f"b{i:06d}") for i in range(n)), batch_size=5000
            )
            self.stdout.write(f"setup: {n:,} SKUs in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            run = push_run(store_id=store.store_id)
            wall = time.perf_counter() - started
            calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()["calls"]
            upserts = [c for c in calls if c["endpoint"] == "inventory.bulk_upsert"]
            limited = [c for c in calls if c["status"] == 429]
            shown = {
                row["variantId"]: row["quantity"]
                for row in requests.get(
                    f"{url}/_sandbox/shops/{store_id}/inventory", timeout=60
                ).json()["inventory"]
            }
            wrong = sum(
                1
                for i in range(n)
                if shown.get(f"B{i:06d}") != push_quantity((i * 7) % 60, 0, QUANTITY_MAX)
            )
            bound = math.ceil(n / 400)
            self.stdout.write(
                f"full push: {run.counts.get('pushed', 0):,} SKUs, {len(upserts)} calls "
                f"(ceil(N/400) = {bound}), {len(limited)} answered 429, "
                f"wall {wall:.1f} s = {wall / bound:.3f} x the bound of {bound} s, "
                f"{wrong} wrong quantities"
            )
            ok = len(upserts) == bound and not limited and wall <= 1.1 * bound and not wrong
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style("full push: target met" if ok else "full push: target MISSED"))
        finally:
            process.terminate()
            process.wait(timeout=30)

    def _store(self, sandbox: Sandbox, url: str, store_id: str) -> Store:
        secret, key = f"SP-{store_id}", f"SL-{store_id}"
        sandbox.shop_add(shop_id=store_id, service_secret=secret, license_key=key)
        return store_create(
            store_id=store_id,
            store_name=store_id,
            api_config={"base_url": url},
            credentials={"service_secret": secret, "license_key": key},
            actor=Actor.system("bench"),
        )

    def _catalogue(self, sandbox: Sandbox | None, store: Store, n: int, stock: Any) -> None:
        """n SKUs b000000.. in our database and as variants B000000.. of the shop."""
        now = timezone.now()
        if not Sku.objects.filter(pk="b000000").exists():
            Sku.objects.bulk_create(
                (
                    Sku(sku_id=f"b{i:06d}", original_sku=f"B{i:06d}", sku_name=f"Bench {i}")
                    for i in range(n)
                ),
                batch_size=5000,
            )
            InventorySnapshot.objects.bulk_create(
                (
                    InventorySnapshot(sku_id=f"b{i:06d}", internal_available=stock(i))
                    for i in range(n)
                ),
                batch_size=5000,
            )
        StoreSku.objects.bulk_create(
            (StoreSku(store=store, sku_id=f"b{i:06d}", registered_at=now) for i in range(n)),
            batch_size=5000,
        )
        registration_ids = dict(StoreSku.objects.filter(store=store).values_list("sku_id", "id"))
        RakutenBinding.objects.bulk_create(
            (
                RakutenBinding(
                    registration_id=registration_ids[f"b{i:06d}"],
                    store=store,
                    manage_number=f"item{i // VARIANTS_PER_ITEM}",
                    variant_id=f"B{i:06d}",
                )
                for i in range(n)
            ),
            batch_size=5000,
        )
        for start in range(0, n if sandbox else 0, VARIANTS_PER_ITEM):
            sandbox.item_add(
                store.store_id,
                {
                    "manageNumber": f"item{start // VARIANTS_PER_ITEM}",
                    "variants": [
                        {"variantId": f"B{i:06d}", "quantity": 0}
                        for i in range(start, min(start + VARIANTS_PER_ITEM, n))
                    ],
                },
            )

    # --- 2. latency -------------------------------------------------------------------

    def _latency(self, n_stores: int, per_hour: int, minutes: int, rng: random.Random) -> None:
        clock = {"now": timezone.now()}
        sandbox = Sandbox(clock=lambda: clock["now"].astimezone(JST).replace(microsecond=0))
        server = SandboxServer(sandbox).start()
        limiter.reset()
        n_skus = 50
        try:
            stores = [self._store(sandbox, server.url, f"bench-{i}") for i in range(n_stores)]
            for store in stores:
                self._catalogue(sandbox, store, n_skus, stock=lambda i: 0)
                for i in range(n_skus):
                    sandbox.stock_set(
                        store.store_id, f"item{i // VARIANTS_PER_ITEM}", f"B{i:06d}", 10_000
                    )
                PollState.objects.create(store=store, origin=clock["now"] - dt.timedelta(seconds=1))
            for i in range(n_skus):
                event_record(
                    sku_id=f"b{i:06d}",
                    quantity=10_000,
                    event_type=EventType.INITIAL,
                    source=EventSource.SYSTEM,
                    operator="bench",
                )
            PendingPush.objects.all().delete()
            start = clock["now"]
            horizon = minutes * 60.0
            # Buyers: a Poisson process over the hour, each order in a random store.
            arrivals, t = [], 0.0
            while True:
                t += rng.expovariate(per_hour / 3600)
                if t >= horizon:
                    break
                arrivals.append(
                    (t, rng.choice(stores).store_id, rng.randrange(n_stores and n_skus))
                )
            # django-q2's scheduler looks about every 30 s, so a 1-minute schedule fires
            # 60 to 90 s after the last time.
            ticks, t = [], 0.0
            while t < horizon + 90:
                t += 60 + rng.uniform(0, 30)
                ticks.append(t)
            pending = list(arrivals)
            latencies, work = [], []
            for tick in ticks:
                due = [a for a in pending if a[0] <= tick]
                pending = [a for a in pending if a[0] > tick]
                for at, store_id, sku in due:
                    clock["now"] = start + dt.timedelta(seconds=at)
                    sandbox.order_place(
                        store_id,
                        [{"manageNumber": "item0", "variantId": f"B{sku:06d}", "units": 1}],
                    )
                clock["now"] = start + dt.timedelta(seconds=tick)
                began = time.perf_counter()
                for store in stores:
                    # The poll task, then at once the push of every store with due rows.
                    orders_poll(store_id=store.store_id, now=clock["now"])
                for store_id in stores_with_due_pushes(now=clock["now"] + dt.timedelta(hours=1)):
                    push_run(store_id=store_id, now=clock["now"] + dt.timedelta(hours=1))
                spent = time.perf_counter() - began
                work.append(spent)
                latencies += [tick - at + spent for at, _, _ in due]
            self._check_latency_run(stores, n_skus, sandbox)
            latencies.sort()
            p50 = statistics.median(latencies)
            p95 = latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)]
            self.stdout.write(
                f"latency: {len(latencies)} orders in {minutes} simulated minutes over "
                f"{n_stores} stores; poll+push per tick {statistics.mean(work):.2f} s mean, "
                f"{max(work):.2f} s max; order -> other stores p50 {p50:.0f} s, p95 {p95:.0f} s"
            )
            ok = p95 <= 90
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style("latency: target met" if ok else "latency: target MISSED"))
        finally:
            server.stop()

    def _check_latency_run(self, stores: list[Store], n_skus: int, sandbox: Sandbox) -> None:
        """Every store must show what the pool holds at the end."""
        for i in range(n_skus):
            pool = InventorySnapshot.objects.get(pk=f"b{i:06d}").internal_available
            for store in stores:
                shown = sandbox.stock_of(store.store_id, "item0", f"B{i:06d}")
                if shown != push_quantity(pool, 0, QUANTITY_MAX):
                    raise CommandError(f"{store.store_id} shows {shown} of b{i:06d}, pool {pool}")
