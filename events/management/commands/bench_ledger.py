"""Throughput of the ledger service against a raw psycopg baseline doing the same work.

Runs in a scratch database (created and dropped here) so the real ledger is never
touched: events cannot be deleted once written.

Three contenders record the same events (``ORDER_RECEIVED`` of -1) with K writer
threads, each on its own connection, one transaction and one commit per event, and
leave the same rows (checked afterwards):

- ``service``: ``events.services.event_record``, as the application calls it;
- ``raw baseline``: what a hand-written psycopg program sends for those rows, on
  psycopg's defaults (server-side binding, statements prepared after 5 runs): the
  snapshot UPDATE, which takes the row lock and returns the balance, the event INSERT
  with that ``balance_after``, the outbox upsert for the stores the SKU is registered
  in (the ledger's own statement, so the same coalescing), COMMIT;
- ``bare statement``: the service's own statement (``ledger.pg_write_statement``) sent
  the way the service sends it, prepared, in autocommit, with no Django: the
  service minus Django.

They run interleaved (the order rotates each round), each run on SKUs of its own, so
every run starts from the same state and a slower moment of the machine hits every
contender, not one.
"""

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction

from events import ledger
from events.actors import Actor
from events.models import EventSource, EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.selectors import snapshot_drift
from events.services import event_record, make_token, stock_set_many
from inventory_site.benchmarks import scratch_database
from skus.models import Sku
from stores.models import Store, StoreSku
from stores.services import store_create

START_STOCK = 1_000_000
SERVICE, RAW, BARE = "service", "raw baseline", "bare statement"
CONTENDERS = (SERVICE, RAW, BARE)
ISSUE_TARGET = 0.9  # issue 15: service >= 0.9x the same-work raw baseline

# A writer: called with (writer index, events to write), inside its own connection.
Write = Callable[[int, int], None]

# The raw baseline's own statements (its outbox upsert is the ledger's). The join reads
# the SKU's oversell rule, which decides the event's ``oversold``.
_RAW_SNAPSHOT = (
    "UPDATE inventory_snapshots AS snap "
    "SET internal_available = snap.internal_available + %s, last_event_id = %s, "
    "updated_at = clock_timestamp() "
    "FROM sku_master AS sku WHERE snap.sku_id = %s AND sku.sku_id = snap.sku_id "
    "RETURNING snap.internal_available, sku.allow_oversell, snap.updated_at"
)
_RAW_EVENT_COLUMNS = (
    *("event_id", "event_type", "sku_id", "quantity", "balance_after", "oversold"),
    *("store_id", "platform_status", "order_id", "operator", "reason", "source", "token"),
    *("metadata", "created_at"),
)
_RAW_EVENT = (
    f"INSERT INTO inventory_events ({', '.join(_RAW_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(_RAW_EVENT_COLUMNS))})"
)

# What every contender's event has in common (the values event_record is given).
_EVENT_CONSTANTS = {
    "event_type": EventType.ORDER_RECEIVED.value,
    "quantity": -1,
    "store_id": None,
    "platform_status": None,
    "operator": "bench",
    "reason": None,
    "source": EventSource.API.value,
}


def _rotated(contenders: tuple[str, ...], round_index: int) -> tuple[str, ...]:
    shift = round_index % len(contenders)
    return contenders[shift:] + contenders[:shift]


def _spread(values: list[float], fmt: str) -> str:
    return (
        f"min {min(values):{fmt}}  median {statistics.median(values):{fmt}}  "
        f"max {max(values):{fmt}}"
    )


def _run_writers(
    writers: int, n_events: int, open_writer: Callable[[], AbstractContextManager[Write]]
) -> float:
    """Run ``n_events`` across ``writers`` threads; the wall time of the writes only.

    Each thread opens its connection before the start line and closes it after its
    finish time is taken, so connecting is not measured."""
    share = [n_events // writers + (1 if i < n_events % writers else 0) for i in range(writers)]
    errors: list[BaseException] = []
    finished = [0.0] * writers
    barrier = threading.Barrier(writers + 1)

    def target(index: int) -> None:
        try:
            with open_writer() as write:
                barrier.wait()
                write(index, share[index])
                finished[index] = time.perf_counter()
        except threading.BrokenBarrierError:
            pass  # another writer failed to start; its error is reported
        except BaseException as exc:  # reported after the run
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise CommandError(f"a writer failed: {errors[0]!r}")
    return max(finished) - started


class Command(BaseCommand):
    help = (
        "Events/s through event_record with K concurrent writers against a raw psycopg "
        "baseline doing the same work and the service's statement without Django "
        "(PostgreSQL), interleaved over several rounds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=4000, help="Events per run.")
        parser.add_argument("--skus", type=int, default=1, help="SKUs the events spread over.")
        parser.add_argument("--writers", type=int, default=4, help="Threads, one connection each.")
        parser.add_argument("--stores", type=int, default=3, help="Stores each SKU is in.")
        parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds.")

    def handle(self, *args: Any, **options: Any) -> None:
        n_events, n_skus = options["events"], options["skus"]
        writers, n_stores, rounds = options["writers"], options["stores"], options["rounds"]
        if min(n_events, n_skus, writers, rounds) < 1 or n_stores < 0:
            raise CommandError(
                "--events, --skus, --writers and --rounds must be at least 1, --stores at least 0."
            )
        with scratch_database("bench_ledger"):
            vendor = connection.vendor
            contenders = CONTENDERS if vendor == "postgresql" else (SERVICE,)
            self.stdout.write(
                f"{vendor}: {n_events} events, {n_skus} SKU(s), {writers} writer(s), "
                f"{n_stores} store(s) each, {rounds} round(s), fresh SKUs each run"
            )
            if vendor == "postgresql":
                self.stdout.write(
                    "per event: raw baseline = BEGIN, UPDATE snapshot, INSERT event, upsert "
                    "outbox, COMMIT; service and bare statement = one prepared statement in "
                    "autocommit"
                )
            else:
                self.stdout.write(
                    "the comparison with a raw baseline needs PostgreSQL (set DATABASE_URL): "
                    "the service only."
                )
            runs = [(r, c) for r in range(rounds) for c in _rotated(contenders, r)]
            sku_sets = self._setup(runs, n_skus, n_stores)
            rates: dict[str, list[float]] = {c: [] for c in contenders}
            for round_index in range(rounds):
                order = _rotated(contenders, round_index)
                for contender in order:
                    self._checkpoint()
                    sku_ids = sku_sets[round_index, contender]
                    elapsed = _run_writers(
                        writers, n_events, self._writer_opener(contender, sku_ids, writers)
                    )
                    rates[contender].append(n_events / elapsed)
                self.stdout.write(self._round_line(round_index, order, rates))
            self.stdout.write("events/s over the rounds:")
            for contender in contenders:
                self.stdout.write(f"  {contender:<15} {_spread(rates[contender], ',.0f')}")
            if vendor == "postgresql":
                ratios = {
                    name: [a / b for a, b in zip(rates[top], rates[bottom], strict=True)]
                    for name, top, bottom in (
                        ("service/raw", SERVICE, RAW),
                        ("bare/raw", BARE, RAW),
                        ("service/bare", SERVICE, BARE),
                    )
                }
                self.stdout.write("ratios of the same round:")
                for name, values in ratios.items():
                    self.stdout.write(f"ratio {name + ':':<13} {_spread(values, '.2f')}")
                median = statistics.median(ratios["service/raw"])
                verdict = "met" if median >= ISSUE_TARGET else "MISSED"
                self.stdout.write(
                    f"issue 15 target: service/raw >= {ISSUE_TARGET} (median): {verdict}"
                )
            problems = self._check(sku_sets, n_events)
            if problems:
                raise CommandError(
                    "the ledger is inconsistent after the runs: " + "; ".join(problems)
                )
            self.stdout.write(
                self.style.SUCCESS(
                    "checked: no snapshot drift, balances chain, outbox consistent, "
                    "the events written alike"
                )
            )

    def _checkpoint(self) -> None:
        """On PostgreSQL, write the earlier runs' dirty pages out now, so that no run
        pays for another's checkpoint (each starts right after one, alike)."""
        if connection.vendor != "postgresql":
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError:  # neither superuser nor pg_checkpoint: runs as they come
            return

    def _round_line(
        self, round_index: int, order: tuple[str, ...], rates: dict[str, list[float]]
    ) -> str:
        parts = ", ".join(f"{c} {rates[c][round_index]:,.0f} events/s" for c in order)
        line = f"round {round_index + 1}: {parts}"
        if RAW in rates:
            raw = rates[RAW][round_index]
            line += (
                f"; service/raw {rates[SERVICE][round_index] / raw:.2f}"
                f", bare/raw {rates[BARE][round_index] / raw:.2f}"
            )
        return line

    def _setup(
        self, runs: list[tuple[int, str]], n_skus: int, n_stores: int
    ) -> dict[tuple[int, str], list[str]]:
        """A fresh set of SKUs per run, each with START_STOCK and registered in every
        store, and no outbox row yet (stock is set before the registrations). In bulk
        (``stock_set_many``, the import's path): ``sku_create`` one by one would take
        longer than the runs with 1,000 SKUs times 15 runs."""
        actor = Actor.system("bench")
        stores = [
            store_create(store_id=f"bench-store-{i}", store_name=f"Bench {i}", actor=actor)
            for i in range(n_stores)
        ]
        sku_sets: dict[tuple[int, str], list[str]] = {}
        skus = []
        for round_index, contender in runs:
            tag = f"r{round_index + 1}-{contender.split()[0]}"
            batch = [
                Sku(sku_id=f"Bench-{tag}-{i:05d}", sku_name=f"Bench {i}") for i in range(n_skus)
            ]
            for sku in batch:
                sku.normalize()
            sku_sets[round_index, contender] = [sku.sku_id for sku in batch]
            skus.extend(batch)
        with transaction.atomic():
            Sku.objects.bulk_create(skus, batch_size=2000)
            InventorySnapshot.objects.bulk_create(
                [InventorySnapshot(sku_id=sku.sku_id, internal_available=0) for sku in skus],
                batch_size=2000,
            )
            stock_set_many(
                targets=[
                    (sku.sku_id, START_STOCK, make_token("bench-initial", sku.sku_id))
                    for sku in skus
                ],
                event_type=EventType.INITIAL,
                source=EventSource.SYSTEM,
                operator=actor.username,
                reason="initial stock",
            )
            StoreSku.objects.bulk_create(
                [StoreSku(store=store, sku=sku) for sku in skus for store in stores],
                batch_size=2000,
            )
        return sku_sets

    def _writer_opener(
        self, contender: str, sku_ids: list[str], writers: int
    ) -> Callable[[], AbstractContextManager[Write]]:
        def sku_of(writer: int, i: int) -> str:
            return sku_ids[(writer + i * writers) % len(sku_ids)]

        tag = contender.split()[0]

        @contextmanager
        def service() -> Iterator[Write]:
            def write(writer: int, count: int) -> None:
                for i in range(count):
                    event_record(
                        sku_id=sku_of(writer, i),
                        quantity=-1,
                        event_type=EventType.ORDER_RECEIVED,
                        source=EventSource.API,
                        operator="bench",
                        order_id=f"{tag}-{writer}-{i}",
                    )

            connection.ensure_connection()
            try:
                yield write
            finally:
                connection.close()

        @contextmanager
        def raw() -> Iterator[Write]:
            from psycopg.types.json import Jsonb

            outbox = ledger.outbox_upsert_one_sql()

            def write(writer: int, count: int) -> None:
                for i in range(count):
                    sku_id, event_id = sku_of(writer, i), uuid.uuid4()
                    # Takes the snapshot's row lock, held to the commit.
                    balance, allow_oversell, locked_at = conn.execute(
                        _RAW_SNAPSHOT, (-1, event_id, sku_id)
                    ).fetchone()
                    event = {
                        **_EVENT_CONSTANTS,
                        "event_id": event_id,
                        "sku_id": sku_id,
                        "balance_after": balance,
                        "oversold": not allow_oversell and balance < 0,  # an order taking stock
                        "order_id": f"{tag}-{writer}-{i}",
                        "token": uuid.uuid4().hex,
                        "metadata": Jsonb({}),
                        "created_at": locked_at,
                    }
                    conn.execute(_RAW_EVENT, [event[column] for column in _RAW_EVENT_COLUMNS])
                    now = datetime.now(UTC)
                    conn.execute(outbox, (now, now, now, now, sku_id, sku_id))
                    conn.commit()

            with self._bare_connection() as conn:
                yield write

        @contextmanager
        def bare() -> Iterator[Write]:
            from psycopg.types.json import Jsonb

            statement, columns = ledger.pg_write_statement()

            def write(writer: int, count: int) -> None:
                for i in range(count):
                    sku_id, event_id, token = sku_of(writer, i), uuid.uuid4(), uuid.uuid4().hex
                    event = {
                        **_EVENT_CONSTANTS,
                        "event_id": event_id,
                        "sku_id": sku_id,
                        "order_id": f"{tag}-{writer}-{i}",
                        "token": token,
                        "metadata": Jsonb({}),
                    }
                    now = datetime.now(UTC)
                    # In the order pg_write_statement documents.
                    params = (
                        *(sku_id, token, None, None, -1, event_id, sku_id, True, -1),
                        *(event[column] for column in columns),
                        *(True, now, now, now, now, sku_id, sku_id, -1),
                    )
                    conn.execute(statement, params, prepare=True).fetchone()

            # As the service sends it outside a transaction: one statement in autocommit.
            with self._bare_connection(autocommit=True) as conn:
                yield write

        return {SERVICE: service, RAW: raw, BARE: bare}[contender]

    @contextmanager
    def _bare_connection(self, *, autocommit: bool = False) -> Iterator[Any]:
        """A plain psycopg connection to the scratch database on psycopg's defaults
        (server-side binding, a statement prepared after five runs)."""
        import psycopg

        params = connection.get_connection_params()
        # Django's choices, not psycopg's defaults: its cursor class, its adapters, and
        # preparing off (prepare_threshold None); a plain program has none of them.
        for name in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(name, None)
        with psycopg.connect(**params, autocommit=autocommit) as conn:
            yield conn

    def _check(self, sku_sets: dict[tuple[int, str], list[str]], n_events: int) -> list[str]:
        """What every run must have left: the snapshots are the sums of their events
        (``snapshot_drift``), each SKU's balances chain down from the start one by one
        with the snapshot at the newest, one pending outbox row per registration of a
        SKU that moved, and events of one shape whichever contender wrote them."""
        problems = []
        drift = snapshot_drift()
        if drift:
            problems.append(f"{len(drift)} snapshot(s) drift from their events: {drift[:3]}")
        orders = InventoryEvent.objects.filter(event_type=EventType.ORDER_RECEIVED).order_by()
        balances: dict[str, list[int]] = {}
        for sku_id, balance in orders.values_list("sku_id", "balance_after"):
            balances.setdefault(sku_id, []).append(balance)
        for (round_index, contender), sku_ids in sku_sets.items():
            written = sum(len(balances.get(sku_id, ())) for sku_id in sku_ids)
            if written != n_events:
                problems.append(
                    f"round {round_index + 1} {contender}: {written} events, not {n_events}"
                )
        # Every event saw a balance of its own, one below the one before (all are -1).
        newest = dict(InventorySnapshot.objects.values_list("sku_id", "last_event__balance_after"))
        for sku_id, found in balances.items():
            expected = list(range(START_STOCK - len(found), START_STOCK))
            if sorted(found) != expected or newest[sku_id] != expected[0]:
                problems.append(f"the balances of {sku_id} do not chain")
                break
        shapes = list(
            orders.values_list(
                *("quantity", "source", "operator", "store_id", "platform_status", "reason"),
                "oversold",
            ).distinct()[:5]
        )
        if len(shapes) != 1 or orders.exclude(metadata={}).exists():
            problems.append(f"the contenders wrote events of different shapes: {shapes}")
        # One pending row per active registration of a SKU that moved, and nothing else.
        moved = {
            key
            for key in StoreSku.objects.filter(store__status=Store.Status.ACTIVE).values_list(
                "store_id", "sku_id"
            )
            if key[1] in balances
        }
        outbox = list(PendingPush.objects.values_list("store_id", "sku_id", "status", "attempts"))
        pending = {
            (store, sku)
            for store, sku, status, attempts in outbox
            if status == PendingPush.Status.PENDING and attempts == 0
        }
        if pending != moved or len(outbox) != len(pending):
            problems.append(
                f"outbox: {len(moved - pending)} pending push(es) missing, "
                f"{len(outbox) - len(pending & moved)} unexpected"
            )
        return problems
