"""Sync engine benchmarks against a platform's sandbox with its real rate limits.

1. Full push of N SKUs to one store: calls, 429s and wall time against the rate-limit
   bound. Rakuten: ceil(N/400) seconds (bulk-upsert: 400 rows, 1 call/s). futureshop:
   ceil(products/100) inventory updates at the client's rate (1 call/s), over a catalogue
   of variation products of 1 to 9 SKUs. eBay: ceil(N/25) bulkUpdatePriceQuantity calls
   at the client's rate (10 calls/s; the sandbox allows 20).
2. Order-to-other-store latency over a simulated hour of orders at a 1-minute poll
   interval: from the moment a buyer orders in one store to the moment the other stores
   have been told the new stock. `--platform mixed` alternates Rakuten, futureshop and
   eBay stores, so an order in any platform must reach the others' stores.

`--platform` picks the kit (rakuten.bench, futureshop.bench or ebay.bench): the platform
apps may not import each other, so the command lives here, above them. Runs in a scratch database it
creates and drops; the full push's sandbox runs as its own process, the latency part's
sandboxes in-process on a simulated clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from ebay import bench as ebay_bench
from events.models import EventSource, EventType, InventorySnapshot, PendingPush
from events.services import event_record
from futureshop import bench as futureshop_bench
from inventory_site.benchmarks import scratch_database
from rakuten import bench as rakuten_bench
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.models import PollState
from sync.orders import orders_poll
from sync.push import push_quantity, push_run, stores_with_due_pushes
from sync.ratelimit import limiter
from sync.sandbox import bench as sandbox_kit

KITS: dict[str, ModuleType] = {
    "rakuten": rakuten_bench,
    "futureshop": futureshop_bench,
    "ebay": ebay_bench,
}
MIXED = "mixed"
LATENCY_SKUS = 50


def sku_id(i: int) -> str:
    """Our id of bench SKU i; each kit's code(i) is its upper case."""
    return f"b{i:06d}"


def _percentile_95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Command(BaseCommand):
    help = "Measure a full push of N SKUs and order-to-other-store latency against the sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--platform",
            choices=[*KITS, MIXED],
            default="rakuten",
            help="The stores' platform; mixed (latency only) alternates the three platforms.",
        )
        parser.add_argument(
            "--skus",
            type=int,
            help="SKUs in the full push (Rakuten 100,000, futureshop and eBay 20,000).",
        )
        parser.add_argument("--orders-per-hour", type=int, default=600)
        parser.add_argument("--stores", type=int, default=3)
        parser.add_argument("--minutes", type=int, default=60, help="Simulated minutes.")
        parser.add_argument("--only", choices=["push", "latency"], help="Run one part only.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        platform = options["platform"]
        skus = options["skus"]
        if skus is None:
            skus = KITS[platform].DEFAULT_SKUS if platform in KITS else 1
        if skus < 1 or options["stores"] < 2:
            raise CommandError("--skus must be at least 1 and --stores at least 2.")
        if platform == MIXED and options["only"] == "push":
            raise CommandError(
                "--platform mixed has no full push (one store of one platform): "
                "run it with --platform rakuten, futureshop or ebay."
            )
        self.stdout.write(f"database: {connection.vendor}")
        if platform != "rakuten":
            self.stdout.write(f"platform: {platform}")
        for name in KITS:
            logging.getLogger(name).setLevel(logging.WARNING)
        if options["only"] in (None, "push"):
            if platform == MIXED:
                self.stdout.write(
                    "full push: skipped for --platform mixed (a full push goes to one store "
                    "of one platform: run it with --platform rakuten, futureshop or ebay)"
                )
            else:
                with scratch_database("bench_sync"):
                    self._full_push(KITS[platform], skus)
        if options["only"] in (None, "latency"):
            platforms = [
                ("rakuten", "futureshop", "ebay")[i % 3] if platform == MIXED else platform
                for i in range(options["stores"])
            ]
            with scratch_database("bench_sync"):
                self._latency(
                    platforms,
                    options["orders_per_hour"],
                    options["minutes"],
                    random.Random(options["seed"]),
                )

    def _registrations(self, store: Store, n: int, stock: Callable[[int], int]) -> dict[str, int]:
        """SKUs b000000.. (made on first use, with their stock) registered in `store`:
        sku_id -> registration id."""
        now = timezone.now()
        if not Sku.objects.filter(pk=sku_id(0)).exists():
            Sku.objects.bulk_create(
                (
                    Sku(sku_id=sku_id(i), original_sku=sku_id(i).upper(), sku_name=f"Bench {i}")
                    for i in range(n)
                ),
                batch_size=5000,
            )
            InventorySnapshot.objects.bulk_create(
                (
                    InventorySnapshot(sku_id=sku_id(i), internal_available=stock(i))
                    for i in range(n)
                ),
                batch_size=5000,
            )
        StoreSku.objects.bulk_create(
            (StoreSku(store=store, sku_id=sku_id(i), registered_at=now) for i in range(n)),
            batch_size=5000,
        )
        return dict(StoreSku.objects.filter(store=store).values_list("sku_id", "id"))

    # --- 1. full push ---------------------------------------------------------------

    def _full_push(self, kit: ModuleType, n: int) -> None:
        # The platform is another machine: the sandbox runs as its own process here, so its
        # work does not share this process's interpreter lock with the pusher's.
        process, url = kit.sandbox_process()
        limiter.reset()
        try:
            store_id = "bench-push"
            started = time.perf_counter()
            kit.push_shop_create(url, store_id, n)
            store = kit.store_add(url, store_id)

            def stock(i: int) -> int:
                return (i * 7) % 60

            kit.bindings_create(store, self._registrations(store, n, stock), n)
            PendingPush.objects.bulk_create(
                (PendingPush(store=store, sku_id=sku_id(i)) for i in range(n)), batch_size=5000
            )
            self.stdout.write(f"setup: {n:,} SKUs in {time.perf_counter() - started:.0f} s")
            shape = kit.push_shape(n)
            if shape:
                self.stdout.write(shape)
            started = time.perf_counter()
            began = time.time()
            run = push_run(store_id=store.store_id)
            wall = time.perf_counter() - started
            calls, limited = kit.push_calls(url)
            shown = kit.push_shown(url, store_id)
            wrong = sum(
                1
                for i in range(n)
                if shown.get(kit.code(i)) != push_quantity(stock(i), 0, kit.QUANTITY_MAX)
            )
            bound_calls, bound, formula = kit.push_bound(n)
            first = sandbox_kit.first_call_at(url, kit.UPDATE_ENDPOINT)
            if first is not None:
                # Claiming the rows and reading their stock come before anything is sent.
                self.stdout.write(
                    f"full push: first call answered {first - began:.2f} s after the start"
                )
            self.stdout.write(
                f"full push: {run.counts.get('pushed', 0):,} SKUs, {calls} calls "
                f"({formula}), {limited} answered 429, "
                f"wall {wall:.1f} s = {wall / bound:.3f} x the bound of {bound:g} s, "
                f"{wrong} wrong quantities"
            )
            ok = calls == bound_calls and not limited and wall <= 1.1 * bound and not wrong
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style("full push: target met" if ok else "full push: target MISSED"))
        finally:
            process.terminate()
            process.wait(timeout=30)

    # --- 2. latency -------------------------------------------------------------------

    def _latency(
        self, platforms: list[str], per_hour: int, minutes: int, rng: random.Random
    ) -> None:
        n_stores = len(platforms)
        clock = {"now": timezone.now()}
        shops: dict[str, Any] = {}
        try:
            for name in dict.fromkeys(platforms):
                shops[name] = KITS[name].LatencyShops(lambda: clock["now"])
            limiter.reset()
            n_skus = LATENCY_SKUS
            stores = [shops[name].store_add(f"bench-{i}") for i, name in enumerate(platforms)]
            kit_of = {
                store.store_id: shops[name] for store, name in zip(stores, platforms, strict=True)
            }
            for store in stores:
                kit = kit_of[store.store_id]
                kit.catalogue(store, self._registrations(store, n_skus, lambda i: 0), n_skus)
                for i in range(n_skus):
                    kit.stock_set(store.store_id, i, 10_000)
                PollState.objects.create(store=store, origin=clock["now"] - dt.timedelta(seconds=1))
            for i in range(n_skus):
                event_record(
                    sku_id=sku_id(i),
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
                arrivals.append((t, rng.choice(stores).store_id, rng.randrange(n_skus)))
            # django-q2's scheduler looks about every 30 s, so a 1-minute schedule fires
            # 60 to 90 s after the last time.
            ticks, t = [], 0.0
            while t < horizon + 90:
                t += 60 + rng.uniform(0, 30)
                ticks.append(t)
            pending = list(arrivals)
            latencies: list[float] = []
            by_origin: dict[str, list[float]] = {name: [] for name in shops}
            work: list[float] = []
            for tick in ticks:
                due = [a for a in pending if a[0] <= tick]
                pending = [a for a in pending if a[0] > tick]
                for at, store_id, sku in due:
                    clock["now"] = start + dt.timedelta(seconds=at)
                    kit_of[store_id].order(store_id, sku)
                clock["now"] = start + dt.timedelta(seconds=tick)
                began = time.perf_counter()
                for store in stores:
                    # The poll task, then at once the push of every store with due rows.
                    orders_poll(store_id=store.store_id, now=clock["now"])
                for store_id in stores_with_due_pushes(now=clock["now"] + dt.timedelta(hours=1)):
                    push_run(store_id=store_id, now=clock["now"] + dt.timedelta(hours=1))
                spent = time.perf_counter() - began
                work.append(spent)
                for at, store_id, _ in due:
                    latencies.append(tick - at + spent)
                    by_origin[kit_of[store_id].platform].append(tick - at + spent)
            self._check_latency_run(stores, n_skus, kit_of)
            # Rakuten alone reports as it always has; other runs say more.
            more = platforms != ["rakuten"] * n_stores
            if more:
                self.stdout.write(
                    f"latency: all {n_stores} stores show what the pool holds "
                    f"({n_skus} SKUs checked in each)"
                )
            p50 = statistics.median(latencies)
            p95 = _percentile_95(latencies)
            where = f"{n_stores} stores"
            if more:
                counts = ", ".join(f"{platforms.count(name)} {name}" for name in shops)
                where = f"{n_stores} stores ({counts})"
            self.stdout.write(
                f"latency: {len(latencies)} orders in {minutes} simulated minutes over "
                f"{where}; poll+push per tick {statistics.mean(work):.2f} s mean, "
                f"{max(work):.2f} s max; order -> other stores p50 {p50:.0f} s, p95 {p95:.0f} s"
            )
            if more:
                for name, kit in shops.items():
                    calls = ", ".join(f"{count} {ep}" for ep, count in sorted(kit.calls().items()))
                    took = by_origin[name]
                    of_orders = (
                        f"p50 {statistics.median(took):.0f} s, p95 {_percentile_95(took):.0f} s"
                        if took
                        else "none"
                    )
                    self.stdout.write(
                        f"latency: {len(took)} orders from {name}: {of_orders}; "
                        f"{name} calls answered: {calls}"
                    )
            ok = p95 <= 90
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style("latency: target met" if ok else "latency: target MISSED"))
        finally:
            for kit in shops.values():
                kit.stop()

    def _check_latency_run(self, stores: list[Store], n_skus: int, kit_of: dict[str, Any]) -> None:
        """Every store must show what the pool holds at the end."""
        for i in range(n_skus):
            pool = InventorySnapshot.objects.get(pk=sku_id(i)).internal_available
            for store in stores:
                kit = kit_of[store.store_id]
                shown = kit.shown(store.store_id, i)
                if shown != push_quantity(pool, 0, kit.quantity_max):
                    raise CommandError(
                        f"{store.store_id} ({kit.platform}) shows {shown} of {sku_id(i)}, "
                        f"pool {pool}"
                    )
