"""What a poll costs at N open orders, and how long an order takes to reach the other stores
(issue 15: polls cost what changed), against the RMS sandbox with its real rate limits.

1. Poll cost (the default): three RMS stores on a sandbox process, SKUs registered in all
   three. Store A holds N open orders, in the sandbox and on our side as already applied
   (the digest the engine computes, lines, per-SKU states and a consistent ledger), with
   their last reads spread over the re-read tiers as in steady state. Each simulated minute
   brings C changes at random moments (new orders, confirmations, shipments,
   cancellations, buyer edits) through the sandbox's control API, then one poll with the
   engine's ``orders_poll``: RMS calls by endpoint (the sandbox's call log), wall time, SQL
   statements, orders read / applied / unchanged. Up to 10,000 open orders the old way
   (every open order read: ``RAKUTEN_POLL_SEARCH_CHANGES`` off) is polled too, minute by
   minute in turn with the new one, on the same order book. At the end every order of A
   must net in the ledger to what the sandbox order holds, and the ledger must add up.
2. Latency (``--latency``): the same order book, then a real ``manage.py qcluster`` on the
   scratch database with the schedules migrate creates (every store polled each minute)
   while orders are placed in A at C a minute at random moments of real time; each order
   takes a SKU of its own, and its latency runs until stores B and C both show the lower
   stock (the sandbox's control API, read every second).

Runs in a scratch PostgreSQL database it creates and drops; the sandbox runs as its own
process (the platform is another machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings
from django.utils import timezone

from events.ledger import rows_insert
from events.models import (
    ORDER_EVENT_TYPES,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
    PendingPush,
)
from events.selectors import snapshot_drift
from events.services import make_token
from inventory_site.benchmarks import scratch_database
from rakuten import bench as kit
from skus.models import Sku
from stores.models import Store, StoreSku
from sync.models import Order, OrderLine, OrderSkuState, PollState, SyncRun
from sync.orders import POLL_OPERATOR_SUFFIX, orders_poll, snapshot_digest
from sync.push import push_quantity
from sync.ratelimit import limiter
from sync.registry import adapter_class

MSG_NEEDS_POSTGRES = (
    "bench_poll needs PostgreSQL (it measures the SQL a poll sends there, and the latency "
    "part runs a qcluster process beside it): set DATABASE_URL=postgres://…"
)

STORES = ("poll-a", "poll-b", "poll-c")
SOURCE = STORES[0]
INITIAL_STOCK = 10_000
# What a minute of changes is made of (fractions of C; remainders carry to the next minute).
# Cancellations ~6% of new orders (a busy shop's upper end): every cancelled order of the
# open orders' span is paged through by the status search of each poll.
MIX = (("new", 0.31), ("confirm", 0.31), ("ship", 0.32), ("cancel", 0.02), ("edit", 0.04))
MIX_WORDS = {
    "new": "new orders (100)",
    "confirm": "confirmations (100 -> 300, oldest first)",
    "ship": "shipments (300 -> 500)",
    "cancel": "cancellations (-> 900, from 100 and from 300 in turn)",
    "edit": "buyer edits at 100 (a line's units +-1)",
}
SHIPPED_HISTORY = dt.timedelta(hours=2)  # beyond the shipping-date search of any poll
BASELINE_UP_TO = 10_000
TARGET_OPEN, TARGET_CHANGES, TARGET_CALLS, TARGET_WALL = 10_000, 20, 10, 5.0
TARGET_LATENCY_OPEN, TARGET_P95 = 50_000, 90.0
NEW, OLD = "new", "baseline"


def sku_id(i: int) -> str:
    """Our id of bench SKU i (the kit's code(i) in lower case)."""
    return kit.code(i).lower()


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    """min/median/max"""
    if not values:
        return "-"
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


class StatementCount:
    """SQL statements this process sends to PostgreSQL while active, from every thread
    (BEGIN and COMMIT, which psycopg sends on its own, are not counted).

    Counted at psycopg's cursors, below Django: the ledger's hot path sends its prepared
    statements through a psycopg cursor of its own, which Django's execute_wrapper and
    CaptureQueriesContext never see."""

    METHODS = (
        (psycopg.Cursor, "execute"),
        (psycopg.Cursor, "executemany"),
        (psycopg.Cursor, "copy"),
        (psycopg.ServerCursor, "execute"),
    )

    def __init__(self) -> None:
        self.count = 0
        self._saved: list[tuple[type, str, Callable]] = []

    def __enter__(self) -> StatementCount:
        for cls, name in self.METHODS:
            original = cls.__dict__[name]
            self._saved.append((cls, name, original))
            setattr(cls, name, self._counting(original))
        return self

    def _counting(self, original: Callable) -> Callable:
        def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(cursor, *args, **kwargs)

        return counted

    def __exit__(self, *exc: object) -> None:
        for cls, name, original in self._saved:
            setattr(cls, name, original)
        self._saved.clear()


class Mix:
    """The kinds of one minute's C changes: C split by the weights (MIX unless given), the
    remainders carried to the next minutes, so that every minute has exactly C and the long
    run keeps the weights."""

    def __init__(self, per_minute: int, weights: dict[str, float] | None = None) -> None:
        self.per_minute = per_minute
        self.weights = weights or dict(MIX)
        self.carry = dict.fromkeys(self.weights, 0.0)

    def rate(self, kind: str) -> float:
        return self.per_minute * self.weights[kind]

    def minute(self) -> list[str]:
        wanted = {
            kind: self.per_minute * weight + self.carry[kind]
            for kind, weight in self.weights.items()
        }
        counts = {kind: max(0, math.floor(value)) for kind, value in wanted.items()}
        by_remainder = sorted(wanted, key=lambda kind: wanted[kind] - counts[kind], reverse=True)
        while sum(counts.values()) < self.per_minute:
            kind = by_remainder.pop(0)
            counts[kind] += 1
        for kind in reversed(list(wanted)):
            while sum(counts.values()) > self.per_minute and counts[kind] > 0:
                counts[kind] -= 1
        self.carry = {kind: wanted[kind] - counts[kind] for kind in wanted}
        return [kind for kind, count in counts.items() for _ in range(count)]


@dataclass
class Book:
    """Store A's open orders as the bench tracks them to pick what to change."""

    at_100: list[str] = field(default_factory=list)  # oldest first
    at_300: list[str] = field(default_factory=list)
    units: dict[str, list[int]] = field(default_factory=dict)  # lines' units, orders at 100
    cancel_from_100: bool = True
    described: str = ""


@dataclass
class PollCost:
    path: str
    calls: Counter
    limited: int
    wall: float
    sql: int
    found: int
    read: int
    applied: int
    unchanged: int
    events: int

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass
class Spec:
    """An order of the book before it is placed: its lines, when, and how it moved."""

    ordered_at: dt.datetime
    lines: list[tuple[int, int]]
    moves: list[tuple[int, dt.datetime]]


def order_differences(
    held: dict[str, dict[str, int]],
    cancelled: set[str],
    net: dict[str, dict[str, int]],
    *,
    strict: bool = True,
) -> tuple[list[str], list[str]]:
    """(the orders whose ledger net differs from what the sandbox order holds, described;
    the cancelled orders whose units the ledger still holds, which wait for their re-read
    tier). Only a cancellation not yet read may wait, and only when not ``strict``: the
    ledger then holds more than the order, so stock is under-reported, never oversold."""
    wrong: list[str] = []
    waiting: list[str] = []
    for number in sorted(set(held) | set(net)):
        want = {sku: units for sku, units in held.get(number, {}).items() if units}
        got = net.get(number, {})
        if want == got:
            continue
        if not strict and number in cancelled and all(units > 0 for units in got.values()):
            waiting.append(number)
            continue
        wrong.append(f"{number}: the sandbox holds {want}, the ledger nets {got}")
    return wrong, waiting


class Command(BaseCommand):
    help = "Measure what an order poll costs at N open orders, and order -> other stores latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--open",
            type=int,
            nargs="+",
            help="Open orders in store A (poll cost: 100 1000 10000 50000; latency: 50000).",
        )
        parser.add_argument("--changes", type=int, default=20, help="Changes a minute.")
        parser.add_argument("--polls", type=int, default=5, help="Polls per path and N.")
        parser.add_argument(
            "--spread-days", type=float, default=3.0, help="The open orders' placing span."
        )
        parser.add_argument("--skus", type=int, default=1000, help="SKUs the orders buy.")
        parser.add_argument(
            "--mix",
            type=_mix,
            default=dict(MIX),
            help="Shares of the changes, e.g. new=0.3,confirm=0.3,ship=0.3,cancel=0.05,"
            "edit=0.05 (default: " + ",".join(f"{k}={w:g}" for k, w in MIX) + ").",
        )
        parser.add_argument(
            "--baseline",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"Poll the old way too (default: up to {BASELINE_UP_TO:,} open orders).",
        )
        parser.add_argument(
            "--sweep",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="End with a lookback sweep and check again (default: on).",
        )
        parser.add_argument(
            "--latency", action="store_true", help="Order -> other stores through qcluster."
        )
        parser.add_argument("--minutes", type=int, default=10, help="Latency: minutes of orders.")
        parser.add_argument(
            "--warm-up",
            type=int,
            default=2,
            help="Latency: polls of store A to wait for before the first order (the re-reads "
            "that came due during the setup).",
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(MSG_NEEDS_POSTGRES)
        if options["changes"] < 1 or options["polls"] < 1 or options["skus"] < 2:
            raise CommandError("--changes and --polls must be at least 1, --skus at least 2.")
        for name in ("rakuten", "sync", "django_q"):
            logging.getLogger(name).setLevel(logging.WARNING)
        sizes = options["open"] or (
            [TARGET_LATENCY_OPEN] if options["latency"] else [100, 1_000, 10_000, 50_000]
        )
        self.say(
            f"database: {connection.vendor}; {len(STORES)} RMS stores "
            f"({', '.join(STORES)}) on a sandbox process with the real rate limits; "
            f"{os.cpu_count()} CPUs"
        )
        # SIGTERM ends the run as Ctrl-C does: qcluster, the sandbox and the scratch database
        # are stopped and dropped on the way out.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            if options["latency"]:
                for n in sizes:
                    self._latency(n, options)
                return
            results = {n: self._poll_cost(n, options) for n in sizes}
            self._summary(results, options)
        finally:
            signal.signal(signal.SIGTERM, previous)

    def say(self, text: str, style: Callable[[str], str] | None = None) -> None:
        self.stdout.write(style(text) if style else text)
        self.stdout.flush()

    # --- the order book ----------------------------------------------------------------

    def _lines(self, rng: random.Random, skus: int) -> list[tuple[int, int]]:
        """1 line (80%) or 2, each of 1 unit (85%) or 2."""
        count = 2 if rng.random() < 0.2 else 1
        return [(i, 2 if rng.random() < 0.15 else 1) for i in rng.sample(range(skus), count)]

    def _specs(
        self,
        n_open: int,
        mix: Mix,
        now: dt.datetime,
        options: dict,
        rng: random.Random,
        at_100: int,
    ) -> tuple[list[Spec], str]:
        spread = dt.timedelta(days=options["spread_days"])
        skus = options["skus"]

        def placed() -> dt.datetime:
            return now - spread * rng.random()

        def after(start: dt.datetime, low: float, high: float, share: float) -> dt.datetime:
            """A moment low..high seconds after `start`, but at most `share` of the way to now."""
            return start + min(dt.timedelta(seconds=rng.uniform(low, high)), (now - start) * share)

        specs = []
        for _ in range(n_open - at_100):
            ordered = placed()
            specs.append(
                Spec(ordered, self._lines(rng, skus), [(300, after(ordered, 60, 3600, 0.5))])
            )
        for _ in range(at_100):
            specs.append(
                Spec(now - dt.timedelta(seconds=rng.uniform(1, 59)), self._lines(rng, skus), [])
            )
        # History the searches page through: the cancellations of the open orders' span (the
        # status search covers it), the shipments of the last 2 hours (the shipping-date
        # search covers the poll window and its overlap).
        cancelled = round(mix.rate("cancel") * spread.total_seconds() / 60)
        for n in range(cancelled):
            ordered = placed()
            if n % 2:
                confirmed = after(ordered, 60, 3600, 0.3)
                moves = [(300, confirmed), (900, after(confirmed, 600, 86_400, 0.5))]
            else:
                moves = [(900, after(ordered, 60, 3600, 0.5))]
            specs.append(Spec(ordered, self._lines(rng, skus), moves))
        shipped = round(mix.rate("ship") * SHIPPED_HISTORY.total_seconds() / 60)
        for _ in range(shipped):
            shipped_at = now - SHIPPED_HISTORY * rng.random()
            ordered = max(now - spread, shipped_at - dt.timedelta(hours=rng.uniform(3, 48)))
            confirmed = ordered + (shipped_at - ordered) * rng.uniform(0.05, 0.5)
            specs.append(
                Spec(ordered, self._lines(rng, skus), [(300, confirmed), (500, shipped_at)])
            )
        specs.sort(key=lambda spec: spec.ordered_at)
        days = f"{options['spread_days']:g}"
        described = (
            f"{n_open:,} open orders in {SOURCE}: {n_open - at_100:,} awaiting shipment (300) "
            f"placed uniformly over the last {days} days, {at_100} awaiting confirmation "
            f"(100) placed in the last minute; history: {cancelled:,} cancelled (900) over "
            f"the same {days} days and {shipped:,} shipped (500) in the last 2 hours "
            f"(the mix's rates); lines: 1 (80%) or 2 of {skus:,} SKUs, 1 unit (85%) or 2"
        )
        return specs, described

    def _setup(
        self,
        shops: kit.PollShops,
        n_open: int,
        options: dict,
        rng: random.Random,
        *,
        extra_skus: int = 0,
        at_100: int | None = None,
        api_config: dict[str, dict] | None = None,
    ) -> Book:
        """Stores, SKUs, A's order book in the sandbox and on our side; the sandbox process
        loaded. `at_100`: orders awaiting confirmation (default: one minute's new ones)."""
        started = time.perf_counter()
        now = shops.at
        mix = Mix(options["changes"], options["mix"])
        at_100 = round(mix.rate("new")) if at_100 is None else at_100
        n_skus = options["skus"] + extra_skus
        stores = [shops.store_add(s, (api_config or {}).get(s)) for s in STORES]
        Sku.objects.bulk_create(
            (
                Sku(sku_id=sku_id(i), original_sku=kit.code(i), sku_name=f"Bench {i}")
                for i in range(n_skus)
            ),
            batch_size=5000,
        )
        for store in stores:
            StoreSku.objects.bulk_create(
                (StoreSku(store=store, sku_id=sku_id(i), registered_at=now) for i in range(n_skus)),
                batch_size=5000,
            )
            registrations = dict(StoreSku.objects.filter(store=store).values_list("sku_id", "id"))
            kit.bindings_create(store, registrations, n_skus)
            shops.catalogue(store.store_id, n_skus)
        specs, book_text = self._specs(n_open, mix, now, options, rng, at_100)
        book = Book(described=book_text)
        stages: dict[str, list[tuple[int, dt.datetime]]] = {}
        for spec in specs:
            number = shops.backdated(SOURCE, spec.lines, spec.ordered_at, spec.moves)
            # What each poll saw: a status from the next poll on (about 30 s later).
            seen = [(100, spec.ordered_at), *spec.moves]
            stages[number] = [
                (status, min(at + dt.timedelta(seconds=30), now)) for status, at in seen
            ]
            last = spec.moves[-1][0] if spec.moves else 100
            if last == 100:
                book.at_100.append(number)
                book.units[number] = [units for _, units in spec.lines]
            elif last == 300:
                book.at_300.append(number)
        pool = self._ledger_build(stores[0], shops, stages, now, n_skus, rng)
        for store in stores:
            for i in range(n_skus):
                shops.stock_set(
                    store.store_id, i, push_quantity(pool[sku_id(i)], 0, kit.QUANTITY_MAX)
                )
        origin = now - dt.timedelta(days=options["spread_days"] + 1)
        PollState.objects.create(store=stores[0], origin=origin, cursor=now, last_poll_at=now)
        for store in stores[1:]:
            PollState.objects.create(
                store=store, origin=now - dt.timedelta(minutes=1), cursor=now, last_poll_at=now
            )
        PendingPush.objects.all().delete()
        size = shops.load()
        self.say(book.described)
        self.say(
            f"setup: {len(specs):,} orders, {n_skus:,} SKUs registered in {', '.join(STORES)}, "
            f"{InventoryEvent.objects.count():,} events; sandbox state {size / 1e6:.0f} MB "
            f"loaded; {time.perf_counter() - started:.0f} s"
        )
        return book

    def _ledger_build(
        self,
        store: Store,
        shops: kit.PollShops,
        stages: dict[str, list[tuple[int, dt.datetime]]],
        now: dt.datetime,
        n_skus: int,
        rng: random.Random,
    ) -> dict[str, int]:
        """A's orders as the engine would have applied them poll by poll: order rows with the
        digest of what getOrder answers now, lines, per-SKU states, and the ORDER_* events
        with the engine's tokens; every snapshot the sum of its events. The pool by SKU."""
        binder = adapter_class(store.platform_type).binder
        matcher, label = binder.matcher(store), binder.label
        platform = store.platform_type
        began = now - dt.timedelta(days=400)
        events = [
            InventoryEvent(
                event_id=uuid.uuid4(),
                event_type=EventType.INITIAL,
                sku_id=sku_id(i),
                quantity=INITIAL_STOCK,
                balance_after=0,
                oversold=False,
                source=EventSource.SYSTEM,
                operator="bench",
                token=uuid.uuid4().hex,
                metadata={},
                created_at=began,
            )
            for i in range(n_skus)
        ]
        rows, lines_of, states_of = [], {}, {}
        tiers = settings.SYNC_POLL_REREAD_TIERS
        for snapshot in shops.snapshots(store.store_id):
            number = snapshot.number
            matched = [matcher(line.listing) for line in snapshot.lines]
            targets: Counter[str] = Counter()
            for line, sku in zip(snapshot.lines, matched, strict=True):
                if sku is None:
                    raise CommandError(f"order {number}: line {line.listing} matches no SKU")
                targets[sku] += line.units if line.counts else 0
            order_events, states = self._converge(
                platform, store.store_id, number, targets, stages[number]
            )
            events += order_events
            first_seen, last_stage = stages[number][0][1], stages[number][-1][1]
            last_seen = last_stage
            if not snapshot.final and snapshot.status != "100":
                # Steady state: the last read lies anywhere within its age tier's period.
                age = (now - snapshot.ordered_at).total_seconds() / 60
                every = next(e for max_age, e in tiers if max_age is None or age < max_age)
                read = now - dt.timedelta(minutes=rng.uniform(0, min(every, age)))
                last_seen = max(last_stage, read)
            elif not snapshot.final:
                last_seen = now  # read by every poll (an always-read status)
            rows.append(
                Order(
                    store=store,
                    order_number=number,
                    platform_status=snapshot.status,
                    ordered_at=snapshot.ordered_at,
                    final=snapshot.final,
                    cancelled=snapshot.cancelled,
                    confirmed=snapshot.confirmed,
                    first_seen_at=first_seen,
                    last_seen_at=last_seen,
                    digest=snapshot_digest(snapshot),
                )
            )
            lines_of[number] = [
                OrderLine(
                    position=position,
                    line_id=line.line_id[:64],
                    listing=dict(line.listing),
                    listing_label=label(line.listing)[:200],
                    units=line.units,
                    deleted=not line.counts,
                    sku_id=sku,
                )
                for position, (line, sku) in enumerate(zip(snapshot.lines, matched, strict=True))
            ]
            states_of[number] = states
        Order.objects.bulk_create(rows, batch_size=5000)
        lines, states = [], []
        for row in rows:
            for line in lines_of[row.order_number]:
                line.order_id = row.pk
                lines.append(line)
            for state in states_of[row.order_number]:
                state.order_id = row.pk
                states.append(state)
        rows_insert(OrderLine, lines)
        rows_insert(OrderSkuState, states)
        # Balances in the order the events happened, per SKU.
        events.sort(key=lambda event: event.created_at)
        balance: dict[str, int] = defaultdict(int)
        last: dict[str, Any] = {}
        for event in events:
            balance[event.sku_id] += event.quantity
            event.balance_after = balance[event.sku_id]
            last[event.sku_id] = event.event_id
        rows_insert(InventoryEvent, events)
        InventorySnapshot.objects.bulk_create(
            (
                InventorySnapshot(
                    sku_id=sku_id(i),
                    internal_available=balance[sku_id(i)],
                    last_event_id=last[sku_id(i)],
                    updated_at=now,
                )
                for i in range(n_skus)
            ),
            batch_size=5000,
        )
        return dict(balance)

    def _converge(
        self,
        platform: str,
        store_id: str,
        number: str,
        units: Counter[str],
        stages: list[tuple[int, dt.datetime]],
    ) -> tuple[list[InventoryEvent], list[OrderSkuState]]:
        """The events ``order_converge`` records for an order seen at each of its statuses
        in turn (same kinds, quantities and tokens), and the per-SKU states it leaves."""
        taken: Counter[str] = Counter()
        counted: Counter[str] = Counter()
        confirmed_recorded: set[str] = set()
        events = []

        def event(
            sku: str,
            kind: str,
            quantity: int,
            token: str,
            status: int,
            at: dt.datetime,
            metadata: dict,
        ) -> InventoryEvent:
            return InventoryEvent(
                event_id=uuid.uuid4(),
                event_type=kind,
                sku_id=sku,
                quantity=quantity,
                balance_after=0,
                oversold=False,
                store_id=store_id,
                platform_status=str(status),
                order_id=number,
                operator=platform + POLL_OPERATOR_SUFFIX,
                source=EventSource.API,
                token=token,
                metadata=metadata,
                created_at=at,
            )

        for status, at in stages:
            cancelled = status == 900
            confirmed = 300 <= status < 900
            for sku in sorted(units):
                target = 0 if cancelled else units[sku]
                difference = target - taken[sku]
                if difference:
                    if difference > 0:
                        kind = (
                            EventType.ORDER_RECEIVED
                            if counted[sku] == 0
                            else EventType.ORDER_MODIFIED
                        )
                    elif target == 0 and cancelled:
                        kind = EventType.ORDER_CANCELLED
                    else:
                        kind = EventType.ORDER_MODIFIED
                    token = make_token(platform, store_id, number, sku, counted[sku], target)
                    events.append(
                        event(
                            sku,
                            kind,
                            -difference,
                            token,
                            status,
                            at,
                            {"units": target, "was": taken[sku]},
                        )
                    )
                    taken[sku] = target
                    counted[sku] += 1
                if target > 0 and confirmed and sku not in confirmed_recorded:
                    token = make_token(platform, store_id, number, sku, "confirmed")
                    events.append(event(sku, EventType.ORDER_CONFIRMED, 0, token, status, at, {}))
                    confirmed_recorded.add(sku)
        states = [
            OrderSkuState(
                sku_id=sku,
                taken=taken[sku],
                events=counted[sku],
                confirmed_recorded=sku in confirmed_recorded,
            )
            for sku in sorted(units)
        ]
        return events, states

    # --- 1. poll cost ----------------------------------------------------------------------

    def _poll_cost(self, n_open: int, options: dict) -> dict[str, list[PollCost]]:
        rng = random.Random(options["seed"])
        baseline = options["baseline"]
        if baseline is None:
            baseline = n_open <= BASELINE_UP_TO
        paths = [NEW, OLD] if baseline else [NEW]
        self.say("")
        self.say(
            f"== poll cost at {n_open:,} open orders, {options['changes']} changes a minute =="
        )
        costs: dict[str, list[PollCost]] = {path: [] for path in paths}
        with scratch_database("bench_poll"):
            process, url = kit.sandbox_process()
            limiter.reset()
            try:
                start = timezone.now().replace(microsecond=0)
                shops = kit.PollShops(url, start)
                book = self._setup(shops, n_open, options, rng)
                mix = Mix(options["changes"], options["mix"])
                self.say(
                    f"each simulated minute: {options['changes']} changes at random moments, "
                    + ", ".join(
                        f"{weight:.0%} {MIX_WORDS[kind]}" for kind, weight in mix.weights.items()
                    )
                    + " (a fraction carried to the next minute); then one poll (engine `now` "
                    "and the sandbox's clock stopped there)"
                    + (
                        f"; paths in turn on the same order book: {OLD} (every open order read) "
                        f"at :30 after its own {options['changes']} changes, {NEW} at :00 after "
                        f"{options['changes']} more, so new polls stay a minute apart (the "
                        f"{OLD} poll's reads of unchanged orders are undone for the re-read tiers)"
                        if baseline
                        else "; a poll a minute"
                    )
                )
                for round_ in range(options["polls"]):
                    minute = start + dt.timedelta(minutes=round_)
                    # New polls stay a minute apart (a minute of re-reads comes due between
                    # them); a baseline poll goes in the middle, after C changes of its own.
                    slots = [(OLD, 0, 30), (NEW, 30, 60)] if baseline else [(NEW, 0, 60)]
                    for path, begin, end in slots:
                        done = self._minute(
                            shops,
                            book,
                            mix,
                            rng,
                            minute + dt.timedelta(seconds=begin),
                            end - begin,
                            options["skus"],
                        )
                        cost = self._poll(shops, minute + dt.timedelta(seconds=end), path)
                        costs[path].append(cost)
                        skipped = sum(v for k, v in done.items() if k.endswith("skipped"))
                        self.say(
                            f"poll {round_ + 1} {path:<8} {self._cost_text(cost)}"
                            + (f" | {skipped} changes had no order to act on" if skipped else "")
                        )
                self._check(shops, "after the last poll", strict=False)
                if options["sweep"]:
                    at = start + dt.timedelta(minutes=options["polls"] + 1)
                    cost = self._poll(shops, at, NEW, sweep=True)
                    self.say(f"sweep (the nightly lookback) {self._cost_text(cost)}")
                    self._check(shops, "after the sweep")
            finally:
                process.terminate()
                process.wait(timeout=30)
        for path in paths:
            self.say(f"{n_open:,} open, {path}: {self._stats_text(costs[path])}")
        return costs

    def _minute(
        self,
        shops: kit.PollShops,
        book: Book,
        mix: Mix,
        rng: random.Random,
        start: dt.datetime,
        seconds: int,
        skus: int,
    ) -> Counter[str]:
        """One minute's changes in A, each at its own moment of the `seconds` from `start`."""
        kinds = mix.minute()
        rng.shuffle(kinds)
        moments = sorted(rng.uniform(0, seconds - 1) for _ in kinds)
        done: Counter[str] = Counter()
        for moment, kind in zip(moments, kinds, strict=True):
            shops.clock_set(start + dt.timedelta(seconds=moment))
            if kind == "new":
                lines = self._lines(rng, skus)
                number = shops.order(SOURCE, lines)
                book.at_100.append(number)
                book.units[number] = [units for _, units in lines]
            elif kind == "confirm":
                if not book.at_100:
                    done["confirm skipped"] += 1
                    continue
                number = book.at_100.pop(0)
                shops.progress(SOURCE, number, 300)
                book.at_300.append(number)
            elif kind == "ship":
                shops.progress(SOURCE, _take(book.at_300, rng), 500)
            elif kind == "cancel":
                source = book.at_100 if book.cancel_from_100 and book.at_100 else book.at_300
                book.cancel_from_100 = not book.cancel_from_100
                shops.progress(SOURCE, _take(source, rng), 900)
            else:
                if not book.at_100:
                    done["edit skipped"] += 1
                    continue
                number = rng.choice(book.at_100)
                units = book.units[number]
                units[0] = units[0] + 1 if units[0] == 1 else units[0] - 1
                shops.units(SOURCE, number, 0, units[0])
            done[kind] += 1
        return done

    def _poll(
        self, shops: kit.PollShops, at: dt.datetime, path: str, *, sweep: bool = False
    ) -> PollCost:
        """One poll of A at `at`; the old path's reads are not left as re-reads the new path
        would then skip (its unchanged orders get their last read back)."""
        shops.clock_set(at)
        shops.calls_clear()
        time.sleep(1.1)  # the last poll's calls leave the rate windows (polls are a minute apart)
        before = {}
        if path == OLD:
            before = {
                pk: (seen, digest)
                for pk, seen, digest in Order.objects.filter(
                    store_id=SOURCE, final=False
                ).values_list("pk", "last_seen_at", "digest")
            }
        with override_settings(RAKUTEN_POLL_SEARCH_CHANGES=path == NEW), StatementCount() as sql:
            started = time.perf_counter()
            run = orders_poll(store_id=SOURCE, now=at, sweep=sweep)
            wall = time.perf_counter() - started
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"the poll ended {run.status}: {run.error}")
        if before:
            unchanged = [
                Order(pk=pk, last_seen_at=before[pk][0])
                for pk, digest in Order.objects.filter(pk__in=list(before)).values_list(
                    "pk", "digest"
                )
                if before[pk][1] == digest
            ]
            Order.objects.bulk_update(unchanged, ["last_seen_at"], batch_size=2000)
        calls, limited = shops.calls(SOURCE)
        counts = run.counts
        applied = counts.get("orders", 0)
        unchanged_count = counts.get("unchanged", 0)
        return PollCost(
            path=path,
            calls=calls,
            limited=limited,
            wall=wall,
            sql=sql.count,
            found=counts.get("found", 0),
            read=applied
            + unchanged_count
            + counts.get("quarantined", 0)
            + counts.get("not_found", 0),
            applied=applied,
            unchanged=unchanged_count,
            events=counts.get("events", 0),
        )

    def _cost_text(self, cost: PollCost) -> str:
        calls = " + ".join(f"{n} {endpoint}" for endpoint, n in sorted(cost.calls.items()))
        return (
            f"RMS calls {cost.total_calls} ({calls or 'none'}; {cost.limited} answered 429) | "
            f"wall {cost.wall:.2f} s (rate-limit floor {kit.rate_floor(cost.calls):.0f} s) | "
            f"SQL {cost.sql:,} | read {cost.read:,} "
            f"({cost.applied} applied, {cost.unchanged:,} unchanged) | events {cost.events}"
        )

    def _stats_text(self, costs: list[PollCost]) -> str:
        endpoints = sorted({endpoint for cost in costs for endpoint in cost.calls})
        by_endpoint = ", ".join(
            f"{endpoint} {_spread([c.calls.get(endpoint, 0) for c in costs])}"
            for endpoint in endpoints
        )
        return (
            f"RMS calls min/median/max {_spread([c.total_calls for c in costs])} ({by_endpoint}); "
            f"wall {_spread([c.wall for c in costs], '{:.2f}')} s; "
            f"SQL {_spread([c.sql for c in costs])}; read {_spread([c.read for c in costs])}; "
            f"applied {_spread([c.applied for c in costs])}; "
            f"429s {sum(c.limited for c in costs)}"
        )

    def _check(self, shops: kit.PollShops, when: str, *, strict: bool = True) -> None:
        """Every order of A nets in the ledger to what the sandbox order holds; every
        snapshot is the sum of its events. Not ``strict`` (after the polls): a cancellation
        of an older order may still wait for its re-read tier, by design (the searches look
        for cancellations among recent orders only): it is counted apart, and passes."""
        held, cancelled = shops.order_states(SOURCE)
        net: dict[str, dict[str, int]] = defaultdict(dict)
        rows = (
            InventoryEvent.objects.filter(store_id=SOURCE, event_type__in=ORDER_EVENT_TYPES)
            .order_by()
            .values("order_id", "sku_id")
            .annotate(total=Sum("quantity"))
            .values_list("order_id", "sku_id", "total")
        )
        for order_id, sku, total in rows:
            if total:
                net[order_id][sku] = -total
        wrong, waiting = order_differences(held, cancelled, net, strict=strict)
        drift = snapshot_drift()
        if wrong or drift:
            for line in wrong[:10]:
                self.say(line)
            self.say(
                f"consistency {when}: FAILED — {len(wrong):,} of {len(held):,} orders differ, "
                f"{len(drift)} snapshots drift",
                self.style.ERROR,
            )
            raise CommandError(f"events lost or doubled {when}")
        self.say(
            f"consistency {when}: passed — all {len(held):,} orders of {SOURCE} net in the "
            f"ledger to what the sandbox holds; snapshot_drift() empty"
            + (
                f"; {len(waiting):,} cancellations of older orders wait for their re-read tier "
                f"(their units still held: stock under-reported until then, never oversold)"
                if waiting
                else ""
            ),
            self.style.SUCCESS,
        )

    def _summary(self, results: dict[int, dict[str, list[PollCost]]], options: dict) -> None:
        self.say("")
        self.say(
            "| open orders | path | RMS calls per poll | order.search | order.get | wall s "
            "| rate-limit floor s | SQL statements | orders read | applied |"
        )
        self.say("|---|---|---|---|---|---|---|---|---|---|")
        for n, costs in results.items():
            for path, polls in costs.items():
                self.say(
                    f"| {n:,} | {path} | {_spread([c.total_calls for c in polls])} "
                    f"| {_spread([c.calls.get('order.search', 0) for c in polls])} "
                    f"| {_spread([c.calls.get('order.get', 0) for c in polls])} "
                    f"| {_spread([c.wall for c in polls], '{:.2f}')} "
                    f"| {_spread([kit.rate_floor(c.calls) for c in polls])} "
                    f"| {_spread([c.sql for c in polls], '{:,.0f}')} "
                    f"| {_spread([c.read for c in polls], '{:,.0f}')} "
                    f"| {_spread([c.applied for c in polls])} |"
                )
        self.say("(min/median/max over the polls)")
        target = results.get(TARGET_OPEN, {}).get(NEW)
        if target and options["changes"] == TARGET_CHANGES:
            calls = max(c.total_calls for c in target)
            wall = max(c.wall for c in target)
            ok = calls <= TARGET_CALLS and wall <= TARGET_WALL
            self.say(
                f"target at {TARGET_OPEN:,} open orders and {TARGET_CHANGES} changes a minute: "
                f"<= {TARGET_CALLS} RMS calls and <= {TARGET_WALL:g} s a poll: "
                f"{'met' if ok else 'MISSED'} (at most {calls} calls, {wall:.2f} s)",
                self.style.SUCCESS if ok else self.style.ERROR,
            )

    # --- 2. latency through the task queue ---------------------------------------------------

    def _latency(self, n_open: int, options: dict) -> None:
        rng = random.Random(options["seed"])
        per_minute, minutes = options["changes"], options["minutes"]
        first_sku = options["skus"]
        fresh = per_minute * (minutes + 1)
        self.say("")
        self.say(
            f"== order -> other stores at {n_open:,} open orders, {per_minute} orders a minute "
            f"for {minutes} minutes, through qcluster =="
        )
        with scratch_database("bench_poll") as database:
            process, url = kit.sandbox_process()
            cluster = None
            try:
                shops = kit.PollShops(url, timezone.now().replace(microsecond=0))
                # A confirms its orders (confirmOrder, then RMS moves them to 300) as a live shop
                # does, so that new orders do not pile up at an always-read status.
                config = {store: {"poll_interval_minutes": 1} for store in STORES}
                config[SOURCE]["confirm_orders"] = True
                self._setup(
                    shops, n_open, options, rng, extra_skus=fresh, at_100=0, api_config=config
                )
                shown = {store: shops.shown(store) for store in STORES[1:]}
                for store, quantities in shown.items():
                    if quantities.get(kit.code(first_sku)) != INITIAL_STOCK:
                        raise CommandError(f"{store} does not show the pool to start with")
                cluster, log = self._qcluster(database)
                self.say(
                    f"qcluster (pid {cluster.pid}, {settings.Q_CLUSTER['workers']} workers, log "
                    f"{log}) on the scratch database; schedules as migrate made them; every store "
                    "polled each minute (api_config poll_interval_minutes 1)"
                )
                warm = self._warm_up(cluster, options["warm_up"])
                self.say(f"warm-up: {len(warm)} polls of {SOURCE} took {_spread(warm, '{:.1f}')} s")
                measured_from = timezone.now()
                latencies, parts = self._orders_watched(
                    shops, cluster, rng, per_minute, minutes, first_sku
                )
            finally:
                if cluster is not None:
                    self._stop(cluster)
                process.terminate()
                process.wait(timeout=30)
            self._latency_report(latencies, parts, measured_from, n_open, per_minute, minutes)

    def _qcluster(self, database: str) -> tuple[subprocess.Popen, str]:
        log = settings.BASE_DIR / "var" / "bench_poll_qcluster.log"
        log.parent.mkdir(exist_ok=True)
        env = {**os.environ, "DATABASE_URL": _database_url(database), "DJANGO_DEBUG": "0"}
        with open(log, "w") as out:
            cluster = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped by us with SIGTERM, not by the terminal's Ctrl-C
            )
        return cluster, str(log)

    def _stop(self, cluster: subprocess.Popen) -> None:
        """SIGTERM, then wait for the cluster to finish its tasks and exit."""
        if cluster.poll() is not None:
            return
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.say("qcluster did not stop within 120 s of SIGTERM: killed", self.style.ERROR)
            cluster.kill()
            cluster.wait(timeout=30)

    def _alive(self, cluster: subprocess.Popen) -> None:
        if cluster.poll() is not None:
            raise CommandError(
                f"qcluster exited ({cluster.returncode}): see var/bench_poll_qcluster.log"
            )

    def _warm_up(self, cluster: subprocess.Popen, polls: int) -> list[float]:
        """Until `polls` polls of A succeeded: the re-reads that came due during the setup
        are done, and the schedule runs."""
        since = timezone.now()
        deadline = time.monotonic() + 600
        while True:
            self._alive(cluster)
            runs = list(
                SyncRun.objects.filter(
                    store_id=SOURCE,
                    kind=SyncRun.Kind.POLL,
                    status=SyncRun.Status.SUCCEEDED,
                    started_at__gte=since,
                ).values_list("started_at", "finished_at")
            )
            if len(runs) >= polls:
                return [(end - begin).total_seconds() for begin, end in runs]
            if time.monotonic() > deadline:
                raise CommandError(f"no {polls} polls of {SOURCE} within 10 minutes")
            time.sleep(1)

    def _orders_watched(
        self,
        shops: kit.PollShops,
        cluster: subprocess.Popen,
        rng: random.Random,
        per_minute: int,
        minutes: int,
        first_sku: int,
    ) -> tuple[list[float], list[tuple[float, float]]]:
        """Place the orders at their moments and watch B and C every second: the latency of
        each order (seconds), and (placed, seen) in wall-clock time."""
        begin = time.time()
        moments = sorted(
            begin + 60 * minute + rng.uniform(0, 60)
            for minute in range(minutes)
            for _ in range(per_minute)
        )
        expected = INITIAL_STOCK - 1
        pending: dict[str, float] = {}  # variant id -> placed (wall clock)
        seen: dict[str, dict[str, float]] = defaultdict(dict)
        done: list[tuple[float, float]] = []
        next_sku = first_sku
        next_look = begin
        drain_until = moments[-1] + 300 if moments else begin
        while (moments or pending) and time.time() < drain_until:
            now = time.time()
            if moments and moments[0] <= now:
                moments.pop(0)
                code = kit.code(next_sku)
                sent = time.time()
                shops.order(SOURCE, [(next_sku, 1)])
                pending[code] = (sent + time.time()) / 2
                next_sku += 1
                continue
            if now >= next_look:
                next_look = now + 1.0
                self._alive(cluster)
                for store in STORES[1:]:
                    quantities = shops.shown(store)
                    looked = time.time()
                    for code in pending:
                        if store not in seen[code] and quantities.get(code) == expected:
                            seen[code][store] = looked
                for code in [c for c in pending if len(seen[c]) == len(STORES) - 1]:
                    done.append((pending.pop(code), max(seen[code].values())))
            wake = min([next_look, *(moments[:1])])
            time.sleep(max(0.0, min(0.2, wake - time.time())))
        if pending:
            raise CommandError(
                f"{len(pending)} orders never showed in the other stores within 5 minutes"
            )
        return [seen_at - placed for placed, seen_at in done], done

    def _latency_report(
        self,
        latencies: list[float],
        parts: list[tuple[float, float]],
        measured_from: dt.datetime,
        n_open: int,
        per_minute: int,
        minutes: int,
    ) -> None:
        polls = list(
            SyncRun.objects.filter(
                store_id=SOURCE, kind=SyncRun.Kind.POLL, started_at__gte=measured_from
            )
            .exclude(finished_at=None)
            .order_by("started_at")
            .values_list("started_at", "finished_at", "status", "counts")
        )
        took = [(end - begin).total_seconds() for begin, end, _, _ in polls]
        between = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(polls)]
        read = [c.get("orders", 0) + c.get("unchanged", 0) for _, _, _, c in polls]
        statuses = Counter(status for _, _, status, _ in polls)
        # Where the time went: until the poll that found the order started, that poll, then
        # until B and C showed it (push task, bulk-upsert, the next look).
        wait, in_poll, after = [], [], []
        for placed, seen_at in parts:
            poll = next(
                (
                    (b.timestamp(), e.timestamp())
                    for b, e, s, _ in polls
                    if s == SyncRun.Status.SUCCEEDED and b.timestamp() >= placed
                ),
                None,
            )
            if poll and poll[1] <= seen_at:
                wait.append(poll[0] - placed)
                in_poll.append(poll[1] - poll[0])
                after.append(seen_at - poll[1])
        pushes = [
            (end - begin).total_seconds()
            for begin, end in SyncRun.objects.filter(
                store_id__in=STORES[1:], kind=SyncRun.Kind.PUSH, started_at__gte=measured_from
            )
            .exclude(finished_at=None)
            .values_list("started_at", "finished_at")
        ]
        self.say(
            f"{SOURCE} polls: {len(polls)} ({dict(statuses)}), every {_spread(between)} s "
            f"(min/median/max between starts), took {_spread(took, '{:.1f}')} s, read "
            f"{_spread(read)} orders; pushes to {', '.join(STORES[1:])}: {len(pushes)}, took "
            f"{_spread(pushes, '{:.1f}')} s"
        )
        if wait:
            self.say(
                "latency parts, p50 / p95: until the poll that found the order started "
                f"{statistics.median(wait):.0f} / {_percentile(wait, 0.95):.0f} s, that poll "
                f"{statistics.median(in_poll):.1f} / {_percentile(in_poll, 0.95):.1f} s, then "
                f"until both stores showed it {statistics.median(after):.1f} / "
                f"{_percentile(after, 0.95):.1f} s"
            )
        p50, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
        self.say(
            f"latency: {len(latencies)} orders placed in {SOURCE} over {minutes} minutes "
            f"({per_minute} a minute at random moments, each on a SKU of its own), all seen in "
            f"{' and '.join(STORES[1:])}; order -> other stores p50 {p50:.0f} s, p95 {p95:.0f} s, "
            f"max {max(latencies):.0f} s"
        )
        if n_open == TARGET_LATENCY_OPEN:
            ok = p95 <= TARGET_P95
            self.say(
                f"target at {TARGET_LATENCY_OPEN:,} open orders: p95 <= {TARGET_P95:g} s: "
                f"{'met' if ok else 'MISSED'}",
                self.style.SUCCESS if ok else self.style.ERROR,
            )


def _mix(text: str) -> dict[str, float]:
    """--mix: every kind of change with its share; the shares add up to 1."""
    try:
        weights = {kind: float(share) for kind, share in (p.split("=") for p in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError("write kind=share,kind=share,...") from None
    if set(weights) != set(MIX_WORDS) or abs(sum(weights.values()) - 1) > 1e-6:
        raise argparse.ArgumentTypeError(
            f"give each of {', '.join(MIX_WORDS)} a share, the shares adding up to 1"
        )
    return {kind: weights[kind] for kind in MIX_WORDS}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _take(numbers: list[str], rng: random.Random) -> str:
    """Remove and return a random one (swap with the last: O(1))."""
    index = rng.randrange(len(numbers))
    numbers[index], numbers[-1] = numbers[-1], numbers[index]
    return numbers.pop()


def _database_url(name: str) -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{name}"
    )
