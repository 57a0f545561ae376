"""Fill the database with a large, consistent data set for `bench_pages`."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from events.ledger import rows_insert
from events.models import (
    AuditAction,
    AuditLog,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
    PendingPush,
)
from rakuten.models import RakutenBinding
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.models import SyncRun

PREFIX = "bulk-"
STORES = ("bulk-tokyo", "bulk-osaka", "bulk-outlet")
USERS = ("aiko", "kenji", "mei", "wang.li", "operator")
CHUNK = 20_000
MSG_SEEDED = "Bulk data is there already (SKUs named %s…): seed a fresh database instead."


class Command(BaseCommand):
    help = (
        "Seed N SKUs (registered in three stores) and M ledger events that add up to each "
        "SKU's snapshot, with oversells, audit entries, pending and failed pushes and runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skus", type=int, default=100_000)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--audit", type=int, default=None, help="default: SKUs / 2")
        parser.add_argument("--seed", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        skus, events = options["skus"], options["events"]
        if skus < 1 or events < skus:
            raise CommandError("Need at least one SKU and one event per SKU.")
        if Sku.objects.filter(sku_id__startswith=PREFIX).exists():
            raise CommandError(MSG_SEEDED % PREFIX)
        self.random = random.Random(options["seed"])
        self.now = timezone.now()
        audit = options["audit"] if options["audit"] is not None else skus // 2
        with transaction.atomic():
            self.stores()
            ids = self.skus(skus)
            oversold = self.events(ids, events)
            self.outbox(ids)
            self.audit(audit)
            self.runs()
        self.stdout.write(
            f"Seeded {skus} SKUs, {events} events ({oversold} oversold), {audit} audit entries "
            f"in stores {', '.join(STORES)}."
        )

    def stores(self) -> None:
        for store_id in STORES:
            Store.objects.get_or_create(
                store_id=store_id,
                defaults={
                    "store_name": store_id.replace("-", " ").title(),
                    "api_config": {"base_url": "http://127.0.0.1:8765"},
                },
            )

    def skus(self, count: int) -> list[str]:
        ids = [f"{PREFIX}{n:07d}" for n in range(count)]
        created = self.now - dt.timedelta(days=120)
        rows_insert(
            Sku,
            (
                Sku(
                    sku_id=sku_id,
                    original_sku=sku_id.upper(),
                    sku_name=f"Bulk item {n} {self.random.choice(['T-shirt', 'Towel', 'Bag'])}",
                    allow_oversell=n % 50 == 0,
                    environment="test" if n % 100 == 0 else "prod",
                    status="inactive" if n % 40 == 0 else "active",
                    metadata={},
                    aliases={},
                    created_at=created,
                    updated_at=created,
                )
                for n, sku_id in enumerate(ids)
            ),
        )
        registrations = []
        for n, sku_id in enumerate(ids):
            for store_id in STORES[: 1 + n % len(STORES)]:
                registrations.append(
                    StoreSku(store_id=store_id, sku_id=sku_id, registered_at=created)
                )
        rows_insert(StoreSku, registrations)
        position = {sku_id: n for n, sku_id in enumerate(ids)}
        # Read first: the connection cannot serve a query while it streams a COPY.
        registered = list(
            StoreSku.objects.filter(sku_id__in=ids).values_list("id", "store_id", "sku_id")
        )
        rows_insert(
            RakutenBinding,
            (
                RakutenBinding(
                    registration_id=registration_id,
                    store_id=store_id,
                    manage_number=f"item-{position[sku_id] // 3}",
                    variant_id=sku_id.upper(),
                    merchant_sku_id="",
                )
                for registration_id, store_id, sku_id in registered
            ),
        )
        return ids

    def _events(self, ids: list[str], count: int) -> Iterator[InventoryEvent]:
        """Each SKU's events oldest first: an initial stock, then orders, cancellations,
        adjustments and imports, each with the balance it leaves."""
        # The first SKU is a bestseller: 2% of the events, for a long timeline.
        hot = (count - len(ids)) // 50
        per_sku, extra = divmod(count - hot, len(ids))
        span = 90 * 24 * 3600
        self.balances: dict[str, tuple[int, uuid.UUID]] = {}
        self.oversold = 0
        for n, sku_id in enumerate(ids):
            total = per_sku + (1 if n < extra else 0) + (hot if n == 0 else 0)
            times = sorted(self.random.randrange(span) for _ in range(total))
            balance = 0
            allow = n % 50 == 0
            event = None
            for i, offset in enumerate(times):
                at = self.now - dt.timedelta(seconds=span - offset)
                if i == 0:
                    kind, delta = EventType.INITIAL, self.random.randint(0, 40)
                else:
                    kind, delta = self._step(balance)
                balance += delta
                oversold = kind == EventType.ORDER_RECEIVED and balance < 0 and not allow
                self.oversold += oversold
                event = InventoryEvent(
                    event_id=uuid.uuid4(),
                    event_type=kind,
                    sku_id=sku_id,
                    quantity=delta,
                    balance_after=balance,
                    oversold=oversold,
                    store_id=STORES[i % len(STORES)] if kind.startswith("ORDER") else None,
                    platform_status="100" if kind.startswith("ORDER") else None,
                    order_id=f"{100000 + n}-{i}" if kind.startswith("ORDER") else None,
                    operator="system" if kind.startswith("ORDER") else USERS[i % len(USERS)],
                    reason=None if kind.startswith("ORDER") else "bulk seed",
                    source=EventSource.API if kind.startswith("ORDER") else EventSource.MANUAL,
                    token=f"bulk:{sku_id}:{i}",
                    metadata={},
                    created_at=at,
                )
                yield event
            self.balances[sku_id] = (balance, event.event_id)

    def _step(self, balance: int) -> tuple[str, int]:
        roll = self.random.random()
        if roll < 0.7:
            # Mostly orders; now and then one takes the last units and more (an oversell).
            units = self.random.randint(1, 3) if balance > 0 or roll < 0.01 else 0
            if units:
                return EventType.ORDER_RECEIVED, -units
            return EventType.IMPORT, self.random.randint(5, 30)
        if roll < 0.8:
            return EventType.ORDER_CANCELLED, 1
        if roll < 0.9:
            return EventType.MANUAL_ADJUSTMENT, self.random.randint(1, 10)
        return EventType.IMPORT, self.random.randint(0, 20)

    def events(self, ids: list[str], count: int) -> int:
        stream = self._events(ids, count)
        while chunk := [event for _, event in zip(range(CHUNK), stream, strict=False)]:
            rows_insert(InventoryEvent, chunk)
        rows_insert(
            InventorySnapshot,
            (
                InventorySnapshot(
                    sku_id=sku_id,
                    internal_available=balance,
                    last_event_id=last,
                    updated_at=self.now,
                )
                for sku_id, (balance, last) in self.balances.items()
            ),
        )
        return self.oversold

    def outbox(self, ids: list[str]) -> None:
        rows = []
        for n, sku_id in enumerate(ids[: max(1, len(ids) // 50)]):
            failed = n % 10 == 0
            rows.append(
                PendingPush(
                    store_id=STORES[0],
                    sku_id=sku_id,
                    status="failed" if failed else "pending",
                    attempts=8 if failed else 0,
                    next_attempt_at=self.now,
                    last_error="429 Too Many Requests" if failed else "",
                    requested_at=self.now,
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
        rows_insert(PendingPush, rows)

    def audit(self, count: int) -> None:
        actions = [
            AuditAction.LOGIN,
            AuditAction.STOCK_ADJUST,
            AuditAction.IMPORT_CONFIRM,
            AuditAction.MANUAL_POLL,
        ]
        rows_insert(
            AuditLog,
            (
                AuditLog(
                    log_id=uuid.uuid4(),
                    user=USERS[n % len(USERS)],
                    action=actions[n % len(actions)],
                    details={"sku_id": f"{PREFIX}{n:07d}"},
                    ip="192.0.2.10",
                    created_at=self.now - dt.timedelta(minutes=n),
                )
                for n in range(count)
            ),
        )

    def runs(self) -> None:
        rows = []
        for store_id in STORES:
            for n in range(200):
                kind = ("poll", "push")[n % 2]
                started = self.now - dt.timedelta(minutes=n)
                rows.append(
                    SyncRun(
                        store_id=store_id,
                        kind=kind,
                        status="succeeded",
                        started_at=started,
                        finished_at=started + dt.timedelta(seconds=3),
                        counts={"events" if kind == "poll" else "pushed": n % 7},
                        details={},
                        log="",
                        error="",
                        cancel_requested=False,
                        operator="system",
                    )
                )
        rows_insert(SyncRun, rows)
