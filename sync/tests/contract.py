"""The adapter contract: what every platform adapter must do, against its own sandbox.

Platform-neutral: this module imports the engine (``sync``), the ledger (``events``), the
SKU master (``skus``), stores and Django, never a platform app. A platform proves its
adapter by subclassing ``AdapterContract`` in its own tests and providing a ``world``
fixture, an object that implements ``ContractWorld`` over that platform's sandbox
(served over HTTP, the adapter's real client talking to it)::

    pytestmark = pytest.mark.django_db

    class TestRmsContract(AdapterContract):
        @pytest.fixture
        def world(self, engine):
            return RmsWorld(engine)

Every test drives the engine's own entry points (``push_request``, ``push_run``,
``orders_poll``, ``reconcile_run``, ``store_auth_test``) and checks what the sandbox shows
and what the engine recorded. The order tests are skipped for an adapter that is not an
``OrderSource``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from typing import Literal, Protocol

import pytest
from django.utils import timezone

from events.actors import Actor
from events.models import EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.services import stock_adjust
from skus.services import sku_create
from stores.models import Store, StoreSku
from sync.adapters import Binder, OrderSource, StockTarget
from sync.catalog import reconcile_run
from sync.leases import lease_acquire
from sync.models import JobLease, QuarantinedOrder, SyncRun
from sync.orders import orders_poll
from sync.push import push_request, push_run
from sync.registry import adapter_class, adapter_for
from sync.services import store_auth_test

Operation = Literal["push", "orders", "stock", "auth"]
FaultKind = Literal["401", "429", "500"]

# The batch size the push tests lower the adapter's to, so that a few rows make several calls.
SMALL_BATCH = 5


class ContractWorld(Protocol):
    """A platform's sandbox and the stores of Inventory Sync pointed at it.

    ``store_ids``: two or more active stores of the platform, each with every SKU of
    ``sku_ids`` registered (bound to a listing the sandbox holds); the pool of each SKU
    is what the sandbox shows for it, the outbox is empty and the stores have no safety
    stock. Orders placed in the sandbox after the world is made are in the window of a
    store's next poll."""

    store_ids: Sequence[str]
    sku_ids: Sequence[str]  # our SKU ids (lowercase)

    def register(self, store_id: str, sku_id: str, n: int) -> None:
        """Make the n-th listing of a new SKU (already created in the pool) in the store's
        sandbox, showing 0, and register the SKU to it (``store_sku_register``)."""
        ...

    def shown(self, store_id: str, sku_id: str) -> int | None:
        """What the sandbox shows for the SKU's listing (None: it holds no stock for it)."""
        ...

    def set_shown(self, store_id: str, sku_id: str, quantity: int) -> None:
        """Change what the sandbox shows, behind our back (a merchant in the back office)."""
        ...

    def place_order(self, store_id: str, sku_id: str, units: int) -> str:
        """A buyer orders ``units`` of the SKU's listing; the order's number."""
        ...

    def cancel_order(self, store_id: str, number: str) -> None: ...

    def change_units(self, store_id: str, number: str, sku_id: str, units: int) -> None:
        """The order's line for the SKU now holds ``units``."""
        ...

    def fault(self, store_id: str, kind: FaultKind, count: int, operation: Operation) -> None:
        """The next ``count`` attempts of ``operation`` by this store's adapter fail with
        ``kind`` as the engine sees them: a client that retries 429 and 5xx itself gets
        enough faults to outlast its retries, and then works again. ``operation``: "push"
        (the stock update), "orders" (the first call of a poll), "stock" (the stock read
        of a reconcile), "auth" (the auth test's call)."""
        ...

    def refuse_next_push_row(self, store_id: str, sku_id: str) -> str:
        """Make the platform refuse this SKU's row of the next push, while it takes the
        other rows of the same batch; a fragment of the platform's message for it."""
        ...

    def calls(self, store_id: str, operation: Operation) -> int:
        """How many calls of ``operation`` the sandbox received from the store so far
        (a client's own retries included)."""
        ...

    def garbage_success(self, store_id: str) -> None:
        """The next pushes of the store are answered 2xx with a body that is not the
        platform's documented success (until ``clear_faults``)."""
        ...

    def late_write(self, store_id: str) -> float:
        """The next push's first attempt is applied by the platform only after the client
        gave up on it (and retried); returns the seconds until it lands."""
        ...

    def clear_faults(self) -> None: ...


# --- what the engine recorded -------------------------------------------------------------


def available(sku_id: str) -> int:
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def expected(store_id: str, sku_id: str) -> int:
    """What the store must show: the pool less the safety stock, within the platform's range."""
    registration = StoreSku.objects.select_related("store").get(store_id=store_id, sku_id=sku_id)
    maximum = adapter_class(registration.store.platform_type).quantity_max
    return max(0, min(available(sku_id) - registration.effective_safety_stock, maximum))


def order_events(store_id: str, number: str) -> list[tuple[str, str, int]]:
    return list(
        InventoryEvent.objects.filter(
            store_id=store_id, order_id=number, event_type__startswith="ORDER_"
        )
        .order_by("created_at")
        .values_list("event_type", "sku_id", "quantity")
    )


def rows(store_id: str) -> list[PendingPush]:
    return list(PendingPush.objects.filter(store_id=store_id).order_by("sku_id"))


def after_backoff(store_id: str) -> dt.datetime:
    """A moment when every row of the store that backs off is due again."""
    latest = max(row.next_attempt_at for row in rows(store_id))
    return latest + dt.timedelta(seconds=1)


class AdapterContract:
    """The tests every platform adapter passes against its sandbox (see the module)."""

    @pytest.fixture
    def world(self) -> ContractWorld:
        pytest.fail("a platform's contract class provides the `world` fixture")

    @pytest.fixture
    def order_world(self, world: ContractWorld) -> ContractWorld:
        """The world, for the tests of an adapter the engine polls for orders."""
        store = Store.objects.get(pk=world.store_ids[0])
        if not isinstance(adapter_for(store), OrderSource):
            pytest.skip(f"the {store.platform_type} adapter is not an OrderSource")
        return world

    @staticmethod
    def shown_zero(world: ContractWorld, store_id: str) -> None:
        """Every SKU shows 0 in the store, so a push that reaches it is seen."""
        for sku_id in world.sku_ids:
            world.set_shown(store_id, sku_id, 0)

    @staticmethod
    def assert_pushed(world: ContractWorld, store_id: str, sku_ids: Sequence[str]) -> None:
        for sku_id in sku_ids:
            quantity = expected(store_id, sku_id)
            assert world.shown(store_id, sku_id) == quantity, sku_id
            registration = StoreSku.objects.get(store_id=store_id, sku_id=sku_id)
            assert registration.last_pushed_quantity == quantity, sku_id

    # --- the adapter as the engine builds it ----------------------------------------------

    def test_the_adapter_is_a_stock_target_with_a_binder(self, world: ContractWorld) -> None:
        store = Store.objects.get(pk=world.store_ids[0])
        target = adapter_class(store.platform_type)
        assert isinstance(adapter_for(store), StockTarget)
        assert isinstance(target.binder, Binder)
        assert target.batch_size >= 1
        assert target.quantity_max >= 1
        assert str(target.unbound_message)
        assert len(world.store_ids) >= 2
        registered = set(
            StoreSku.objects.filter(store_id__in=world.store_ids).values_list("store_id", "sku_id")
        )
        assert {(s, k) for s in world.store_ids for k in world.sku_ids} <= registered

    # --- pushes ------------------------------------------------------------------------------

    def test_a_push_sends_every_due_row_in_batches(
        self, world: ContractWorld, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_id = world.store_ids[0]
        target = adapter_class(Store.objects.get(pk=store_id).platform_type)
        monkeypatch.setattr(target, "batch_size", SMALL_BATCH)
        count = 2 * SMALL_BATCH + 3
        actor = Actor.cli("contract")
        new = []
        for n in range(count):
            sku = sku_create(
                sku_id=f"Contract-{n:03d}",
                sku_name=f"contract {n}",
                initial_stock=20 + n,
                actor=actor,
            )
            world.register(store_id, sku.sku_id, n)
            new.append(sku.sku_id)
        assert {row.sku_id for row in rows(store_id)} == set(new)  # registering made them due
        assert {world.shown(store_id, sku_id) for sku_id in new} == {0}
        before = world.calls(store_id, "push")
        now = timezone.now()
        run = push_run(store_id=store_id, now=now)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert run.counts["pushed"] == count
        assert world.calls(store_id, "push") - before == math.ceil(count / SMALL_BATCH)
        self.assert_pushed(world, store_id, new)
        assert [20 + n for n in range(count)] == [world.shown(store_id, s) for s in new]
        assert set(
            StoreSku.objects.filter(store_id=store_id, sku_id__in=new).values_list(
                "last_pushed_at", flat=True
            )
        ) == {now}
        assert rows(store_id) == []
        # The other stores were not told about SKUs they do not hold.
        assert world.calls(world.store_ids[1], "push") == 0

    def test_a_push_of_nothing_due_calls_nothing(self, world: ContractWorld) -> None:
        store_id = world.store_ids[0]
        run = push_run(store_id=store_id)
        assert (run.status, run.counts) == (SyncRun.Status.SUCCEEDED, {})
        assert world.calls(store_id, "push") == 0

    def test_a_row_the_platform_refuses_fails_alone(self, world: ContractWorld) -> None:
        store_id = world.store_ids[0]
        bad, *good = world.sku_ids
        self.shown_zero(world, store_id)
        fragment = world.refuse_next_push_row(store_id, bad)
        push_request(store_id=store_id)
        run = push_run(store_id=store_id)
        assert run.status == SyncRun.Status.PARTIAL
        assert (run.counts["pushed"], run.counts["failed"]) == (len(good), 1)
        (failed,) = rows(store_id)
        assert (failed.sku_id, failed.status) == (bad, PendingPush.Status.FAILED)
        assert fragment in failed.last_error
        target = adapter_class(Store.objects.get(pk=store_id).platform_type)
        assert failed.last_error != str(target.unbound_message)
        self.assert_pushed(world, store_id, good)
        assert world.shown(store_id, bad) == 0
        registration = StoreSku.objects.get(store_id=store_id, sku_id=bad)
        assert registration.last_pushed_quantity is None
        # A failed row waits for staff: a later push leaves it alone.
        later = timezone.now() + dt.timedelta(days=1)
        assert push_run(store_id=store_id, now=later).counts == {}
        assert rows(store_id) == [failed]

    def test_refused_credentials_fail_the_run_and_back_every_row_off(
        self, world: ContractWorld, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_id = world.store_ids[0]
        target = adapter_class(Store.objects.get(pk=store_id).platform_type)
        # One row a batch: the engine could go on to the next batch, and must not.
        monkeypatch.setattr(target, "batch_size", 1)
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        world.fault(store_id, "401", 1, "push")
        now = timezone.now()
        run = push_run(store_id=store_id, now=now)
        assert run.status == SyncRun.Status.FAILED
        # Neither retried by the engine nor the next batch tried (a client that gets a new
        # token once on a 401, as futureshop's must, makes that one call twice).
        calls = world.calls(store_id, "push")
        assert calls == getattr(world, "calls_per_refused_push", 1)
        due = rows(store_id)
        assert sorted(row.sku_id for row in due) == sorted(world.sku_ids)
        for row in due:
            assert (row.status, row.attempts) == (PendingPush.Status.PENDING, 1)
            assert row.next_attempt_at > now
            assert row.last_error
        assert len({row.last_error for row in due}) == 1
        assert due[0].last_error in run.log
        assert {world.shown(store_id, sku_id) for sku_id in world.sku_ids} == {0}
        # Not due again before the backoff ends …
        assert push_run(store_id=store_id, now=now).counts == {}
        assert world.calls(store_id, "push") == calls
        # … then pushed once the platform takes the credentials again.
        run = push_run(store_id=store_id, now=after_backoff(store_id))
        assert run.status == SyncRun.Status.SUCCEEDED
        self.assert_pushed(world, store_id, world.sku_ids)
        assert rows(store_id) == []

    def test_a_failed_push_run_says_why(self, world: ContractWorld) -> None:
        """Staff read a run's error on the store page and in the commands' output."""
        store_id = world.store_ids[0]
        push_request(store_id=store_id)
        world.fault(store_id, "401", 1, "push")
        run = push_run(store_id=store_id)
        assert run.status == SyncRun.Status.FAILED
        error = rows(store_id)[0].last_error
        assert error
        assert error in run.error

    @pytest.mark.parametrize("kind", ["429", "500"])
    def test_a_busy_platform_backs_the_rows_off_and_a_later_push_sends_them(
        self, world: ContractWorld, kind: FaultKind
    ) -> None:
        store_id, other = world.store_ids[:2]
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        world.fault(store_id, kind, 1, "push")
        now = timezone.now()
        run = push_run(store_id=store_id, now=now)
        assert run.status == SyncRun.Status.FAILED
        assert run.counts["deferred"] == len(world.sku_ids)
        due = rows(store_id)
        assert len(due) == len(world.sku_ids)
        for row in due:
            assert (row.status, row.attempts) == (PendingPush.Status.PENDING, 1)
            assert row.next_attempt_at > now
            assert row.last_error
        assert {world.shown(store_id, sku_id) for sku_id in world.sku_ids} == {0}
        calls = world.calls(store_id, "push")
        assert push_run(store_id=store_id, now=now).counts == {}  # backing off
        assert world.calls(store_id, "push") == calls
        run = push_run(store_id=store_id, now=after_backoff(store_id))
        assert run.status == SyncRun.Status.SUCCEEDED
        assert run.counts["pushed"] == len(world.sku_ids)
        self.assert_pushed(world, store_id, world.sku_ids)
        assert rows(store_id) == []
        assert world.calls(other, "push") == 0  # one store's trouble stays its own

    @pytest.mark.parametrize("kind", ["429", "500"])
    def test_rows_end_failed_after_the_last_attempt(
        self, world: ContractWorld, settings, kind: FaultKind
    ) -> None:
        settings.SYNC_PUSH_MAX_ATTEMPTS = 3
        store_id = world.store_ids[0]
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        world.fault(store_id, kind, 3, "push")
        now = timezone.now()
        for attempt in (1, 2):
            run = push_run(store_id=store_id, now=now)
            assert run.status == SyncRun.Status.FAILED
            assert {(row.status, row.attempts) for row in rows(store_id)} == {
                (PendingPush.Status.PENDING, attempt)
            }
            now = after_backoff(store_id)
        run = push_run(store_id=store_id, now=now)
        assert run.status == SyncRun.Status.FAILED
        failed = rows(store_id)
        assert {(row.status, row.attempts) for row in failed} == {(PendingPush.Status.FAILED, 3)}
        assert all(row.last_error for row in failed)
        calls = world.calls(store_id, "push")
        assert push_run(store_id=store_id, now=now + dt.timedelta(days=1)).counts == {}
        assert world.calls(store_id, "push") == calls
        assert {world.shown(store_id, sku_id) for sku_id in world.sku_ids} == {0}

    # --- orders ------------------------------------------------------------------------------

    def test_an_order_takes_its_units_once_and_a_cancellation_gives_them_back_once(
        self, order_world: ContractWorld
    ) -> None:
        world = order_world
        store_id, other = world.store_ids[:2]
        sku_id = world.sku_ids[0]
        start = available(sku_id)
        number = world.place_order(store_id, sku_id, 3)
        run = orders_poll(store_id=store_id)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert run.counts["events"] == 1
        assert available(sku_id) == start - 3
        assert order_events(store_id, number) == [(EventType.ORDER_RECEIVED, sku_id, -3)]
        events = InventoryEvent.objects.count()
        for _ in range(10):
            assert orders_poll(store_id=store_id).status == SyncRun.Status.SUCCEEDED
        assert InventoryEvent.objects.count() == events
        assert available(sku_id) == start - 3
        # The other store is told the new quantity.
        assert world.shown(other, sku_id) == start
        run = push_run(store_id=other)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert world.shown(other, sku_id) == start - 3 == expected(other, sku_id)
        world.cancel_order(store_id, number)
        orders_poll(store_id=store_id)
        orders_poll(store_id=store_id)
        assert order_events(store_id, number) == [
            (EventType.ORDER_RECEIVED, sku_id, -3),
            (EventType.ORDER_CANCELLED, sku_id, 3),
        ]
        assert available(sku_id) == start
        push_run(store_id=other)
        assert world.shown(other, sku_id) == start

    def test_a_quantity_change_records_the_difference(self, order_world: ContractWorld) -> None:
        world = order_world
        store_id, other = world.store_ids[:2]
        sku_id = world.sku_ids[1]
        start = available(sku_id)
        number = world.place_order(store_id, sku_id, 5)
        orders_poll(store_id=store_id)
        world.change_units(store_id, number, sku_id, 2)
        run = orders_poll(store_id=store_id)
        assert run.counts["events"] == 1
        orders_poll(store_id=store_id)
        assert order_events(store_id, number) == [
            (EventType.ORDER_RECEIVED, sku_id, -5),
            (EventType.ORDER_MODIFIED, sku_id, 3),
        ]
        assert available(sku_id) == start - 2
        push_run(store_id=other)
        assert world.shown(other, sku_id) == start - 2

    @pytest.mark.parametrize("kind", ["401", "500"])
    def test_a_poll_that_fails_records_nothing_and_the_next_takes_the_order_once(
        self, order_world: ContractWorld, kind: FaultKind
    ) -> None:
        world = order_world
        store_id = world.store_ids[0]
        sku_id = world.sku_ids[0]
        start = available(sku_id)
        number = world.place_order(store_id, sku_id, 2)
        world.fault(store_id, kind, 1, "orders")
        run = orders_poll(store_id=store_id)
        assert run.status == SyncRun.Status.FAILED
        assert run.error
        assert order_events(store_id, number) == []
        assert available(sku_id) == start
        run = orders_poll(store_id=store_id)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert order_events(store_id, number) == [(EventType.ORDER_RECEIVED, sku_id, -2)]
        assert available(sku_id) == start - 2

    # --- reconcile ---------------------------------------------------------------------------

    def test_reconcile_reads_back_what_was_pushed_and_finds_drift(
        self, world: ContractWorld
    ) -> None:
        store_id = world.store_ids[0]
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        assert push_run(store_id=store_id).status == SyncRun.Status.SUCCEEDED
        run = reconcile_run(store_id=store_id)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert run.counts == {"checked": len(world.sku_ids), "drift": 0}
        assert run.details["drift"] == []
        sku_id = world.sku_ids[0]
        pushed = expected(store_id, sku_id)
        world.set_shown(store_id, sku_id, pushed + 7)
        run = reconcile_run(store_id=store_id)
        assert run.counts == {"checked": len(world.sku_ids), "drift": 1, "repaired": 1}
        assert run.details["drift"] == [
            {"sku_id": sku_id, "platform": pushed + 7, "last_pushed": pushed, "expected": pushed}
        ]
        # The drift is repaired: the SKU is due again, and the next push puts ours back.
        assert [row.sku_id for row in rows(store_id)] == [sku_id]
        assert push_run(store_id=store_id).status == SyncRun.Status.SUCCEEDED
        assert world.shown(store_id, sku_id) == pushed

    def test_a_reconcile_that_cannot_read_the_stock_fails(self, world: ContractWorld) -> None:
        store_id = world.store_ids[0]
        world.fault(store_id, "500", 1, "stock")
        run = reconcile_run(store_id=store_id)
        assert run.status == SyncRun.Status.FAILED
        assert run.error
        assert "drift" not in run.details
        assert reconcile_run(store_id=store_id).status == SyncRun.Status.SUCCEEDED

    # --- auth test ---------------------------------------------------------------------------

    def test_the_auth_test_says_whether_the_platform_takes_the_credentials(
        self, world: ContractWorld
    ) -> None:
        store_id = world.store_ids[0]
        ok, message = store_auth_test(store_id=store_id)
        assert ok is True
        assert message
        store = Store.objects.get(pk=store_id)
        assert (store.last_auth_error, store.last_auth_test_at is not None) == ("", True)
        world.fault(store_id, "401", 1, "auth")
        ok, message = store_auth_test(store_id=store_id)
        assert ok is False
        assert message
        assert Store.objects.get(pk=store_id).last_auth_error == message
        assert store_auth_test(store_id=store_id)[0] is True
        assert Store.objects.get(pk=store_id).last_auth_error == ""

    # --- what survives crashes and bad answers (sync that survives crashes) -----------------

    def test_a_2xx_that_is_not_the_documented_success_counts_as_a_failure(
        self, world: ContractWorld
    ) -> None:
        store_id = world.store_ids[0]
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        world.garbage_success(store_id)
        run = push_run(store_id=store_id)
        assert run.status == SyncRun.Status.FAILED
        assert {(row.status, row.attempts) for row in rows(store_id)} == {("pending", 1)}
        assert not StoreSku.objects.filter(
            store_id=store_id, last_pushed_quantity__isnull=False
        ).exists()
        world.clear_faults()
        assert push_run(store_id=store_id, now=after_backoff(store_id)).status == "succeeded"
        self.assert_pushed(world, store_id, world.sku_ids)

    def test_a_write_applied_late_is_read_back_and_repaired(
        self, world: ContractWorld, settings
    ) -> None:
        store_id = world.store_ids[0]
        sku_id = world.sku_ids[0]
        push_request(store_id=store_id, sku_ids=[sku_id])
        lands_in = world.late_write(store_id)
        run = push_run(store_id=store_id)
        assert run.counts["to_verify"] == 1
        old = expected(store_id, sku_id)
        (row,) = rows(store_id)
        assert row.verify_after is not None  # to be read back
        # Meanwhile the pool moves and the new quantity is pushed...
        stock_adjust(sku_id=sku_id, quantity=-2, reason="count", actor=Actor.cli("contract"))
        assert push_run(store_id=store_id).status == SyncRun.Status.SUCCEEDED
        assert world.shown(store_id, sku_id) == old - 2
        # ... and then the first write lands, over it.
        time.sleep(lands_in + 0.5)
        assert world.shown(store_id, sku_id) == old
        later = timezone.now() + dt.timedelta(seconds=settings.SYNC_VERIFY_SECONDS + 1)
        run = push_run(store_id=store_id, now=later)
        assert run.counts["late_writes_repaired"] == 1
        assert world.shown(store_id, sku_id) == old - 2
        assert rows(store_id) == []  # read back and settled

    def test_a_read_back_that_finds_the_store_right_pushes_nothing(
        self, world: ContractWorld, settings
    ) -> None:
        store_id = world.store_ids[0]
        sku_id = world.sku_ids[0]
        push_request(store_id=store_id, sku_ids=[sku_id])
        lands_in = world.late_write(store_id)
        push_run(store_id=store_id)
        time.sleep(lands_in + 0.5)
        calls = world.calls(store_id, "push")
        later = timezone.now() + dt.timedelta(seconds=settings.SYNC_VERIFY_SECONDS + 1)
        run = push_run(store_id=store_id, now=later)
        assert run.counts["verified"] == 1
        assert world.calls(store_id, "push") == calls
        assert rows(store_id) == []

    def test_a_dead_workers_push_is_taken_over_and_nothing_is_lost(
        self, world: ContractWorld
    ) -> None:
        store_id = world.store_ids[0]
        self.shown_zero(world, store_id)
        push_request(store_id=store_id)
        key = f"push:{store_id}"
        dead = SyncRun.objects.create(
            store_id=store_id, kind="push", lease_key=key, lease_token=lease_acquire(key)
        )
        PendingPush.objects.filter(store_id=store_id).update(status="in_progress")
        assert push_run(store_id=store_id).status == SyncRun.Status.SKIPPED
        JobLease.objects.filter(key=key).update(expires_at=timezone.now())  # it ran out
        assert push_run(store_id=store_id).status == SyncRun.Status.SUCCEEDED
        dead.refresh_from_db()
        assert dead.status == SyncRun.Status.INTERRUPTED
        self.assert_pushed(world, store_id, world.sku_ids)
        assert rows(store_id) == []

    def test_an_order_the_engine_cannot_apply_is_quarantined_and_the_poll_goes_on(
        self, world: ContractWorld
    ) -> None:
        store_id = world.store_ids[0]
        if not isinstance(adapter_for(Store.objects.get(pk=store_id)), OrderSource):
            pytest.skip("not an OrderSource")
        bad_sku, good_sku = world.sku_ids[:2]
        before = available(good_sku)
        bad = world.place_order(store_id, bad_sku, 2**31)
        world.place_order(store_id, good_sku, 1)
        run = orders_poll(store_id=store_id)
        assert run.status == SyncRun.Status.SUCCEEDED
        assert run.counts["quarantined"] == 1
        assert available(good_sku) == before - 1
        assert order_events(store_id, bad) == []
        assert QuarantinedOrder.objects.get(store_id=store_id).order_number == bad
