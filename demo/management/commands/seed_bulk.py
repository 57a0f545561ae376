"""Fill the database with a large, consistent data set for `bench_pages` (and `bench_api`).

Every staff page and admin list has rows to show: SKUs registered in Rakuten stores and a
futureshop store, a ledger whose balances chain and add up to each snapshot, the orders
behind the order events (with their lines, a few unmatched, and RMS confirmations),
quarantined orders, pending and failed pushes, sync runs (with reconcile drift), stock
uploads, purchases with their items, audit entries, a stored ledger check, django-q2
tasks and django-axes login records."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from events.actors import Actor
from events.ledger import rows_insert
from events.models import (
    AuditAction,
    AuditLog,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
    LedgerCheck,
    PendingPush,
)
from events.services import ledger_check_run
from futureshop.models import FutureshopBinding
from imports.models import UploadedFile
from imports.resources import TEMPLATE_HEADER
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from rakuten.models import RakutenBinding, RakutenOrderConfirmation
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.models import Order, OrderLine, QuarantinedOrder, SyncRun

PREFIX = "bulk-"
STORES = ("bulk-tokyo", "bulk-osaka", "bulk-outlet")
# A futureshop store with the first SKUs: its bindings, orders and pages have rows too.
FUTURESHOP_STORE = "bulk-fs"
USERS = ("aiko", "kenji", "mei", "wang.li", "operator")
CHUNK = 20_000
MSG_SEEDED = "Bulk data is there already (SKUs named %s…): seed a fresh database instead."
# Orders older than this are shipped (final); newer ones are still open.
OPEN_ORDER_DAYS = 7
# Every this many orders, one more line the engine could not match to a SKU.
UNMATCHED_EVERY = 500


class Command(BaseCommand):
    help = (
        "Seed N SKUs (registered in three Rakuten stores and a futureshop store) and M "
        "ledger events that add up to each SKU's snapshot, with the orders behind the order "
        "events, oversells, audit entries, pending and failed pushes, runs, uploads, "
        "purchases and a ledger check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skus", type=int, default=100_000)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--audit", type=int, default=None, help="default: SKUs / 2")
        parser.add_argument("--runs", type=int, default=None, help="default: SKUs / 5")
        parser.add_argument("--purchases", type=int, default=None, help="default: SKUs / 50")
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
        runs = options["runs"] if options["runs"] is not None else max(50, skus // 5)
        purchases = options["purchases"] if options["purchases"] is not None else max(5, skus // 50)
        with transaction.atomic():
            self.stores()
            ids = self.skus(skus)
            oversold = self.events(ids, events)
            orders = self.orders()
            self.quarantine(max(10, skus // 500))
            self.outbox(ids)
            self.audit(audit)
            self.runs(runs, ids)
            self.uploads(ids)
            self.purchases(purchases, ids)
            self.tasks_and_logins()
            check = self.ledger_check()
        if connection.vendor == "postgresql":
            # COPY leaves no statistics and autovacuum may be off: without them the planner
            # guesses a handful of rows and picks nested loops (see README, bench_api).
            # VACUUM also marks the pages all-visible (index-only scans); it cannot run in
            # a transaction (a test's), ANALYZE can.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        self.stdout.write(
            f"Seeded {skus} SKUs, {events} events ({oversold} oversold), {orders} orders, "
            f"{audit} audit entries, {runs} runs, {purchases} purchases in stores "
            f"{', '.join((*STORES, FUTURESHOP_STORE))}; ledger check: {check.status}."
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
        Store.objects.get_or_create(
            store_id=FUTURESHOP_STORE,
            defaults={
                "store_name": "Bulk futureshop",
                "platform_type": Store.Platform.FUTURESHOP,
                "api_config": {"base_url": "http://127.0.0.1:8766"},
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
        # The futureshop store carries one SKU in twenty.
        registrations += [
            StoreSku(store_id=FUTURESHOP_STORE, sku_id=sku_id, registered_at=created)
            for sku_id in ids[::20]
        ]
        rows_insert(StoreSku, registrations)
        self.position = {sku_id: n for n, sku_id in enumerate(ids)}
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
                    manage_number=f"item-{self.position[sku_id] // 3}",
                    variant_id=sku_id.upper(),
                    merchant_sku_id="",
                )
                for registration_id, store_id, sku_id in registered
                if store_id != FUTURESHOP_STORE
            ),
        )
        rows_insert(
            FutureshopBinding,
            (
                FutureshopBinding(
                    registration_id=registration_id,
                    store_id=store_id,
                    product_no=f"P{self.position[sku_id] // 3:06d}",
                    sku_no=sku_id.upper(),
                    vertical_no=str(self.position[sku_id] % 3 + 1),
                    horizontal_no="1",
                )
                for registration_id, store_id, sku_id in registered
                if store_id == FUTURESHOP_STORE
            ),
        )
        return ids

    def _events(self, ids: list[str], count: int) -> Iterator[InventoryEvent]:
        """Each SKU's events oldest first: an initial stock, then orders, cancellations,
        adjustments and imports, each with the balance it leaves. Each order received is
        kept for `orders` (store, number, SKU, units, time)."""
        # The first SKU is a bestseller: 2% of the events, for a long timeline.
        hot = (count - len(ids)) // 50
        per_sku, extra = divmod(count - hot, len(ids))
        span = 90 * 24 * 3600
        self.balances: dict[str, tuple[int, uuid.UUID]] = {}
        self.order_rows: list[tuple[str, str, str, int, dt.datetime]] = []
        self.oversold = 0
        for n, sku_id in enumerate(ids):
            total = per_sku + (1 if n < extra else 0) + (hot if n == 0 else 0)
            times = sorted(self.random.randrange(span) for _ in range(total))
            balance = 0
            allow = n % 50 == 0
            stores = STORES[: 1 + n % len(STORES)]
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
                is_order = kind.startswith("ORDER")
                store_id = stores[i % len(stores)] if is_order else None
                order_id = f"{100000 + n}-{i}" if is_order else None
                if kind == EventType.ORDER_RECEIVED:
                    self.order_rows.append((store_id, order_id, sku_id, -delta, at))
                event = InventoryEvent(
                    event_id=uuid.uuid4(),
                    event_type=kind,
                    sku_id=sku_id,
                    quantity=delta,
                    balance_after=balance,
                    oversold=oversold,
                    store_id=store_id,
                    platform_status="100" if is_order else None,
                    order_id=order_id,
                    operator="system" if is_order else USERS[i % len(USERS)],
                    reason=None if is_order else "bulk seed",
                    source=EventSource.API if is_order else EventSource.MANUAL,
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

    def orders(self) -> int:
        """One order per order received in the ledger, as the store shows it now: older
        ones shipped (final), recent ones new or confirmed; one line each (the SKU's RMS
        listing), and now and then a second line no SKU matches."""
        open_since = self.now - dt.timedelta(days=OPEN_ORDER_DAYS)
        rows_insert(
            Order,
            (
                Order(
                    store_id=store_id,
                    order_number=number,
                    platform_status="500" if at < open_since else ("100", "300")[n % 2],
                    ordered_at=at,
                    final=at < open_since,
                    cancelled=False,
                    confirmed=at < open_since or n % 2 == 1,
                    first_seen_at=at,
                    last_seen_at=at,
                )
                for n, (store_id, number, _sku, _units, at) in enumerate(self.order_rows)
            ),
        )
        order_pk = {
            (store_id, number): pk
            for pk, store_id, number in Order.objects.filter(
                store_id__in=(*STORES, FUTURESHOP_STORE)
            ).values_list("pk", "store_id", "order_number")
        }

        def lines() -> Iterator[OrderLine]:
            for n, (store_id, number, sku_id, units, _at) in enumerate(self.order_rows):
                item = f"item-{self.position[sku_id] // 3}"
                yield OrderLine(
                    order_id=order_pk[(store_id, number)],
                    position=1,
                    line_id=f"{number}-1",
                    listing={"manage_number": item, "variant_id": sku_id.upper()},
                    listing_label=f"{item} / {sku_id.upper()}",
                    units=units,
                    deleted=False,
                    sku_id=sku_id,
                )
                if n % UNMATCHED_EVERY == 0:
                    yield OrderLine(
                        order_id=order_pk[(store_id, number)],
                        position=2,
                        line_id=f"{number}-2",
                        listing={"manage_number": "gift-wrap", "variant_id": f"W{n}"},
                        listing_label=f"gift-wrap / W{n}",
                        units=1,
                        deleted=False,
                        sku_id=None,
                    )

        rows_insert(OrderLine, lines())

        # RMS confirmations of the open orders: most done, some pending, one in a
        # thousand failed after its last attempt (listed on the failed-syncs page).
        def confirmation(n: int) -> str:
            return "failed" if n % 1000 == 999 else ("done", "done", "done", "pending")[n % 4]

        rows_insert(
            RakutenOrderConfirmation,
            (
                RakutenOrderConfirmation(
                    order_id=order_pk[(store_id, number)],
                    store_id=store_id,
                    status=confirmation(n),
                    attempts=8 if confirmation(n) == "failed" else 1,
                    next_at=self.now if confirmation(n) == "pending" else None,
                    error="HTTP 500: ES00-01" if confirmation(n) == "failed" else "",
                )
                for n, (store_id, number, _sku, _units, at) in enumerate(self.order_rows)
                if at >= open_since
            ),
        )
        count = len(self.order_rows)
        del self.order_rows
        return count

    def quarantine(self, count: int) -> None:
        statuses = ("open", "open", "resolved", "dismissed")
        rows_insert(
            QuarantinedOrder,
            (
                QuarantinedOrder(
                    store_id=STORES[n % len(STORES)],
                    order_number=f"900000-{n:06d}",
                    reason="quantity 1000000 is out of range (at most 99999)",
                    snapshot={"orderNumber": f"900000-{n:06d}", "units": 1_000_000},
                    status=statuses[n % len(statuses)],
                    attempts=1 + n % 4,
                    first_seen_at=self.now - dt.timedelta(hours=n),
                    last_seen_at=self.now - dt.timedelta(minutes=n),
                    closed_at=None if n % len(statuses) < 2 else self.now,
                    closed_by="" if n % len(statuses) < 2 else USERS[n % len(USERS)],
                )
                for n in range(count)
            ),
        )

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

    def runs(self, count: int, ids: list[str]) -> None:
        """Polls and pushes every few minutes per store, now and then a confirmation, a
        SKU sync or a reconcile (the newest of each store with drift to show)."""
        stores = (*STORES, FUTURESHOP_STORE)
        kinds = ("poll", "push", "poll", "push", "confirm", "push", "sku_sync", "reconcile")
        rows = []
        for n in range(count):
            store_id = stores[n % len(stores)]
            kind = kinds[(n // len(stores)) % len(kinds)]
            if n < len(stores):
                kind = "reconcile"
            started = self.now - dt.timedelta(minutes=n)
            details: dict[str, Any] = {}
            if kind == "reconcile":
                drifted = ids[n % len(ids) :: max(1, len(ids) // 3)][:3]
                details = {
                    "drift": [
                        {"sku_id": sku_id, "platform": 4, "last_pushed": 5, "expected": 5}
                        for sku_id in drifted
                    ]
                }
            rows.append(
                SyncRun(
                    store_id=store_id,
                    kind=kind,
                    status=("succeeded", "succeeded", "succeeded", "partial", "failed")[n % 5],
                    started_at=started,
                    finished_at=started + dt.timedelta(seconds=3),
                    counts={"events" if kind == "poll" else "pushed": n % 7},
                    details=details,
                    log=f"{started:%H:%M:%S} {kind} {store_id}: {n % 7} done\n",
                    error="RMS answered 500" if n % 5 == 4 else "",
                    cancel_requested=False,
                    lease_key="",
                    lease_token="",
                    operator="system",
                )
            )
        rows_insert(SyncRun, rows)

    def uploads(self, ids: list[str]) -> None:
        """Stock files uploaded over the last weeks (confirmed, cancelled, one failed) and
        one pending of 1,000 rows, whose preview page parses it."""
        statuses = ("confirmed", "confirmed", "cancelled", "failed")
        files = []
        for n in range(41):
            rows = 1000 if n == 0 else 200
            start = (n * rows) % max(1, len(ids) - rows)
            lines = [",".join(TEMPLATE_HEADER)] + [
                f"{sku_id.upper()},Bulk item {start + i},{(start + i) % 30},,,"
                for i, sku_id in enumerate(ids[start : start + rows])
            ]
            files.append(
                UploadedFile(
                    file_id=uuid.uuid4(),
                    filename=f"stock-{n:03d}.csv",
                    original_content="\r\n".join(lines) + "\r\n",
                    store_id=STORES[n % len(STORES)],
                    import_mode="reset_stock",
                    zero_handling="ignore",
                    operator=USERS[n % len(USERS)],
                    error="" if n % 4 != 3 or n == 0 else "the database went away",
                    status="pending" if n == 0 else statuses[n % 4],
                    created_at=self.now - dt.timedelta(hours=n),
                )
            )
        rows_insert(UploadedFile, files)

    def purchases(self, count: int, ids: list[str]) -> None:
        """Purchase orders with three items each, in transit (no stock moves yet)."""
        rows_insert(
            OfficialAccount,
            (
                OfficialAccount(
                    account_id=f"BULK{n:03d}",
                    email=f"buyer{n}@example.com",
                    name=f"Buyer {n}",
                    created_at=self.now,
                    updated_at=self.now,
                )
                for n in range(20)
            ),
        )
        accounts = list(
            OfficialAccount.objects.filter(account_id__startswith="BULK").values_list(
                "pk", flat=True
            )
        )
        statuses = ("pending_confirmation", "shipped", "in_delivery", "delivered")
        rows_insert(
            Purchasing,
            (
                Purchasing(
                    order_number=f"PO-BULK-{n:06d}",
                    official_account_id=accounts[n % len(accounts)],
                    batch_encoding=f"B{n // 100:04d}",
                    tracking_number=f"TRK{n:08d}" if n % 4 else "",
                    delivery_status=statuses[n % len(statuses)],
                    account_used=f"BULK{n % 20:03d}",
                    creation_source="seed_bulk",
                    created_at=self.now - dt.timedelta(hours=n),
                    updated_at=self.now - dt.timedelta(hours=n),
                )
                for n in range(count)
            ),
        )
        purchase_ids = list(
            Purchasing.objects.filter(order_number__startswith="PO-BULK-").values_list(
                "pk", flat=True
            )
        )
        rows_insert(
            InventoryItem,
            (
                InventoryItem(
                    purchase_id=purchase_id,
                    flag=f"F{n}-{k}",
                    status="out_of_stock" if (n + k) % 17 == 0 else "in_transit",
                    product_type="apparel",
                    sku_id=ids[(n * 3 + k) % len(ids)],
                    quantity=1 + (n + k) % 5,
                    received_quantity=0,
                    receipt_revision=0,
                    created_at=self.now,
                    updated_at=self.now,
                )
                for n, purchase_id in enumerate(purchase_ids)
                for k in range(3)
            ),
        )

    def tasks_and_logins(self) -> None:
        """A few finished django-q2 tasks and django-axes records, for their admin lists."""
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from django_q.models import Task

        Task.objects.bulk_create(
            Task(
                id=uuid.uuid4().hex,
                name=f"bulk-task-{n}",
                func="sync.tasks.push_store",
                started=self.now - dt.timedelta(minutes=n),
                stopped=self.now - dt.timedelta(minutes=n) + dt.timedelta(seconds=2),
                success=n % 10 != 0,
                result="succeeded {'pushed': 3}" if n % 10 else "RMS answered 500",
                attempt_count=1,
                group=None,
            )
            for n in range(100)
        )
        common = {
            "user_agent": "Mozilla/5.0",
            "ip_address": "192.0.2.10",
            "http_accept": "text/html",
            "path_info": "/admin/login/",
        }
        AccessLog.objects.bulk_create(
            AccessLog(username=USERS[n % len(USERS)], session_hash="", **common) for n in range(50)
        )
        AccessFailureLog.objects.bulk_create(
            AccessFailureLog(username=USERS[n % len(USERS)], locked_out=False, **common)
            for n in range(20)
        )
        AccessAttempt.objects.create(
            username="mallory", get_data="", post_data="", failures_since_start=2, **common
        )

    def ledger_check(self) -> LedgerCheck:
        """Last night's checks, then a real one: the reconciliation page shows it."""
        LedgerCheck.objects.bulk_create(
            LedgerCheck(
                started_at=self.now - dt.timedelta(days=night),
                finished_at=self.now - dt.timedelta(days=night),
                duration_ms=1500,
                requested_by="nightly schedule",
                status=LedgerCheck.Status.OK,
                skus_checked=len(self.balances),
            )
            for night in range(5, 0, -1)
        )
        return ledger_check_run(actor=Actor.system("seed_bulk"))
