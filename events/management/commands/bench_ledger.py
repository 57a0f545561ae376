"""Throughput of the ledger service against a raw psycopg baseline.

Runs in a scratch database (created and dropped here) so the real ledger
is never touched: events cannot be deleted once written.
"""

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from events.actors import Actor
from events.models import EventSource, EventType, InventoryEvent
from events.selectors import snapshot_drift
from events.services import event_record
from inventory_site.benchmarks import scratch_database
from skus.services import sku_create
from stores.models import StoreSku
from stores.services import store_create

START_STOCK = 1_000_000


def _run_writers(writers: int, events: int, work: Callable[[int, int], None]) -> float:
    """Run ``work(writer, count)`` in ``writers`` threads; the wall time."""
    share = [events // writers + (1 if i < events % writers else 0) for i in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + 1)

    def target(index: int) -> None:
        try:
            barrier.wait()
            work(index, share[index])
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise CommandError(f"a writer failed: {errors[0]!r}")
    return elapsed


class Command(BaseCommand):
    help = (
        "Measure events/s through event_record with K concurrent writers, and a raw "
        "psycopg baseline doing the same INSERT + UPDATE per transaction (PostgreSQL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=4000)
        parser.add_argument("--skus", type=int, default=1)
        parser.add_argument("--writers", type=int, default=4)
        parser.add_argument("--stores", type=int, default=3, help="Stores each SKU is in.")

    def handle(self, *args: Any, **options: Any) -> None:
        n_events, n_skus = options["events"], options["skus"]
        writers, n_stores = options["writers"], options["stores"]
        if min(n_events, n_skus, writers) < 1 or n_stores < 0:
            raise CommandError("--events, --skus and --writers must be at least 1.")
        vendor = connection.vendor
        with scratch_database("bench_ledger"):
            sku_ids = self._setup(n_skus, n_stores)
            service_rate = self._bench_service(sku_ids, n_events, writers)
            self.stdout.write(
                f"service  {vendor}: {n_events} events, {n_skus} SKU(s), {writers} writer(s), "
                f"{n_stores} store(s) each: {service_rate:,.0f} events/s"
            )
            drift = snapshot_drift()
            if drift:
                raise CommandError(f"snapshot drift after the run: {drift[:3]}")
            if vendor != "postgresql":
                self.stdout.write("raw baseline: PostgreSQL only (set DATABASE_URL).")
                return
            raw_rate = self._bench_raw(sku_ids, n_events, writers)
            if snapshot_drift():
                raise CommandError("snapshot drift after the raw baseline")
            self.stdout.write(f"raw psycopg baseline:   {raw_rate:,.0f} events/s")
            self.stdout.write(
                self.style.SUCCESS(f"ratio service/raw: {service_rate / raw_rate:.2f}")
            )

    def _setup(self, n_skus: int, n_stores: int) -> list[str]:
        actor = Actor.system("bench")
        stores = [
            store_create(store_id=f"bench-store-{i}", store_name=f"Bench {i}", actor=actor)
            for i in range(n_stores)
        ]
        sku_ids = []
        for i in range(n_skus):
            sku = sku_create(
                sku_id=f"Bench-{i:05d}",
                sku_name=f"Bench {i}",
                initial_stock=START_STOCK,
                actor=actor,
            )
            for store in stores:
                # The outbox needs registrations, not platform ids (no push runs here).
                StoreSku.objects.create(store=store, sku=sku)
            sku_ids.append(sku.sku_id)
        return sku_ids

    def _bench_service(self, sku_ids: list[str], n_events: int, writers: int) -> float:
        def work(writer: int, count: int) -> None:
            try:
                for i in range(count):
                    event_record(
                        sku_id=sku_ids[(writer + i * writers) % len(sku_ids)],
                        quantity=-1,
                        event_type=EventType.ORDER_RECEIVED,
                        source=EventSource.API,
                        operator="bench",
                        order_id=f"bench-{writer}-{i}",
                    )
            finally:
                connection.close()

        before = InventoryEvent.objects.count()
        elapsed = _run_writers(writers, n_events, work)
        written = InventoryEvent.objects.count() - before
        if written != n_events:
            raise CommandError(f"expected {n_events} events, found {written}")
        return n_events / elapsed

    def _bench_raw(self, sku_ids: list[str], n_events: int, writers: int) -> float:
        """The same event row into the same table and the same snapshot
        UPDATE, one transaction per event, straight through psycopg."""
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)

        def work(writer: int, count: int) -> None:
            with psycopg.connect(**params) as conn:
                for i in range(count):
                    sku_id = sku_ids[(writer + i * writers) % len(sku_ids)]
                    event_id = uuid.uuid4()
                    conn.execute(
                        "INSERT INTO inventory_events (event_id, event_type, sku_id, quantity, "
                        "balance_after, oversold, store_id, platform_status, order_id, operator, "
                        "reason, source, token, metadata, created_at) VALUES (%s, %s, %s, %s, 0, "
                        "false, NULL, NULL, %s, %s, NULL, %s, %s, '{}', now())",
                        (
                            event_id,
                            EventType.ORDER_RECEIVED,
                            sku_id,
                            -1,
                            f"raw-{writer}-{i}",
                            "bench",
                            EventSource.API,
                            uuid.uuid4().hex,
                        ),
                    )
                    conn.execute(
                        "UPDATE inventory_snapshots SET internal_available = "
                        "internal_available - 1, last_event_id = %s, updated_at = now() "
                        "WHERE sku_id = %s",
                        (event_id, sku_id),
                    )
                    conn.commit()

        return n_events / _run_writers(writers, n_events, work)
