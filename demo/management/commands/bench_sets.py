"""Does selling sets slow the push? A full push of N SKUs to one RMS shop where S of them
are sets of C components, against the same push where those S SKUs are plain SKUs
holding exactly what the sets allow (so both send the same quantities).

Both variants push the same store, the same registrations and bindings, to the same
sandbox shop, in interleaved rounds (with, without, with, …; the order flips every
round); only the S SKUs' nature changes between rounds (their component rows and
snapshots are switched outside the timed part). Each round makes all N rows due, resets
the rate limiter, waits for the sandbox's rate window to clear, and times ``push_run``.
Prints each round, then min/median/max of the wall time, its ratio to the rate-limit
bound (RMS bulk-upsert: ceil(N/400) calls at 1 call/s) and of with/without per pair,
and checks every quantity the shop shows. Runs in a scratch database it drops.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from events.models import InventorySnapshot, PendingPush
from inventory_site.benchmarks import scratch_database
from rakuten import bench as kit
from skus.models import Sku, SkuComponent
from skus.sets import set_available
from stores.models import StoreSku
from sync.push import push_quantity, push_run
from sync.ratelimit import limiter

WITH, WITHOUT = "with sets", "without sets"


def sku_id(i: int) -> str:
    return kit.code(i).lower()


def stock(i: int) -> int:
    return (i * 7) % 60


class Command(BaseCommand):
    help = "Full push of N SKUs with S sets of C components vs the same push without sets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skus", type=int, default=20_000)
        parser.add_argument("--sets", type=int, default=2_000)
        parser.add_argument("--components", type=int, default=3)
        parser.add_argument("--rounds", type=int, default=3, help="Rounds of each variant.")

    def handle(self, *args: Any, **options: Any) -> None:
        n, sets, parts = options["skus"], options["sets"], options["components"]
        if not 0 < sets < n or parts < 1 or (n - sets) < sets * parts or options["rounds"] < 1:
            raise CommandError(
                "Need 0 < --sets < --skus, --components >= 1, enough plain SKUs for every "
                "set's own components (skus - sets >= sets x components) and --rounds >= 1."
            )
        logging.getLogger("rakuten").setLevel(logging.WARNING)
        with scratch_database("bench_sets"):
            self._run(n, sets, parts, options["rounds"])

    def _run(self, n: int, sets: int, parts: int, rounds: int) -> None:
        plain = n - sets
        # Set j (SKU plain + j) takes components parts*j … parts*j + parts-1, quantities 1, 2, …
        recipe = {plain + j: [(parts * j + k, k + 1) for k in range(parts)] for j in range(sets)}
        allows = {
            i: set_available((stock(c), q) for c, q in components)
            for i, components in recipe.items()
        }
        expected = {
            kit.code(i): push_quantity(allows.get(i, stock(i)), 0, kit.QUANTITY_MAX)
            for i in range(n)
        }
        process, url = kit.sandbox_process()
        try:
            store_id = "bench-sets"
            started = time.perf_counter()
            kit.push_shop_create(url, store_id, n)
            store = kit.store_add(url, store_id)
            Sku.objects.bulk_create(
                (
                    Sku(sku_id=sku_id(i), original_sku=kit.code(i), sku_name=f"Bench {i}")
                    for i in range(n)
                ),
                batch_size=5000,
            )
            InventorySnapshot.objects.bulk_create(
                (
                    InventorySnapshot(
                        sku_id=sku_id(i), internal_available=stock(i) if i < plain else 0
                    )
                    for i in range(n)
                ),
                batch_size=5000,
            )
            now = timezone.now()
            StoreSku.objects.bulk_create(
                (StoreSku(store=store, sku_id=sku_id(i), registered_at=now) for i in range(n)),
                batch_size=5000,
            )
            kit.bindings_create(
                store, dict(StoreSku.objects.filter(store=store).values_list("sku_id", "id")), n
            )
            components = [
                SkuComponent(set_id=sku_id(i), component_id=sku_id(c), quantity=q)
                for i, parts_of in recipe.items()
                for c, q in parts_of
            ]
            self.stdout.write(
                f"setup: {n:,} SKUs ({sets:,} sets of {parts} components) in "
                f"{time.perf_counter() - started:.0f} s; database {connection.vendor}"
            )
            calls_needed, bound, formula = kit.push_bound(n)
            results: dict[str, list[float]] = {WITH: [], WITHOUT: []}
            firsts: dict[str, list[float]] = {WITH: [], WITHOUT: []}
            ok = True
            for round_no in range(rounds):
                order = (WITH, WITHOUT) if round_no % 2 == 0 else (WITHOUT, WITH)
                for variant in order:
                    self._switch(variant, components, allows)
                    wall, first, calls, limited = self._push(store.store_id, url, n)
                    shown = kit.push_shown(url, store_id)
                    wrong = sum(1 for code, q in expected.items() if shown.get(code) != q)
                    results[variant].append(wall)
                    firsts[variant].append(first)
                    ok = ok and not wrong and not limited and calls == calls_needed
                    self.stdout.write(
                        f"round {round_no + 1} {variant:>12}: wall {wall:6.1f} s = "
                        f"{wall / bound:.3f} x the bound of {bound:g} s ({formula}), "
                        f"first call {first:.2f} s, {calls} calls, {limited} answered 429, "
                        f"{wrong} wrong quantities"
                    )
            self._summary(results, firsts, bound)
            ratios = [w / wo for w, wo in zip(results[WITH], results[WITHOUT], strict=True)]
            ok = ok and statistics.median(ratios) <= 1.02
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(
                style("sets: target met (no slower than without sets, every quantity right)")
                if ok
                else style("sets: target MISSED")
            )
        finally:
            process.terminate()
            process.wait(timeout=30)

    def _switch(self, variant: str, components: list[SkuComponent], allows: dict[int, int]) -> None:
        """Make the set SKUs sets (component rows, no stock of their own) or plain SKUs
        holding what the sets allow; outside the timed part."""
        set_ids = [component.set_id for component in components]
        SkuComponent.objects.filter(set_id__in=set_ids).delete()
        if variant == WITH:
            SkuComponent.objects.bulk_create(components, batch_size=5000)
            InventorySnapshot.objects.filter(sku_id__in=set_ids).update(internal_available=0)
            return
        for i, quantity in allows.items():
            InventorySnapshot.objects.filter(sku_id=sku_id(i)).update(internal_available=quantity)

    def _push(self, store_id: str, url: str, n: int) -> tuple[float, float, int, int]:
        """One timed full push: (wall s, first call answered after s, calls, 429s)."""
        PendingPush.objects.filter(store_id=store_id).delete()
        PendingPush.objects.bulk_create(
            (PendingPush(store_id=store_id, sku_id=sku_id(i)) for i in range(n)), batch_size=5000
        )
        limiter.reset()
        time.sleep(1.5)  # the sandbox's one-second window of the last round is over
        began = time.time()
        started = time.perf_counter()
        run = push_run(store_id=store_id)
        wall = time.perf_counter() - started
        if run.counts.get("pushed", 0) != n:
            raise CommandError(f"the push sent {run.counts} of {n} rows: {run.error}")
        log = requests.get(f"{url}/_sandbox/calls", timeout=60).json()["calls"]
        mine = [c for c in log if c["endpoint"] == kit.UPDATE_ENDPOINT and c["at"] >= began]
        limited = sum(1 for c in log if c["status"] == 429 and c["at"] >= began)
        first = min(c["at"] for c in mine) - began if mine else float("nan")
        return wall, first, len(mine), limited

    def _summary(
        self, results: dict[str, list[float]], firsts: dict[str, list[float]], bound: float
    ) -> None:
        def mmm(values: list[float], fmt: str) -> str:
            return "/".join(
                format(v, fmt) for v in (min(values), statistics.median(values), max(values))
            )

        for variant, walls in results.items():
            self.stdout.write(
                f"{variant:>12}: wall min/median/max {mmm(walls, '.1f')} s, "
                f"x bound {mmm([w / bound for w in walls], '.3f')}, "
                f"first call {mmm(firsts[variant], '.2f')} s"
            )
        ratios = [w / wo for w, wo in zip(results[WITH], results[WITHOUT], strict=True)]
        self.stdout.write(f"with / without sets, per round: min/median/max {mmm(ratios, '.3f')}")
