import pytest
from django.db import connection
from django.db.models import Sum

from events.models import (
    AuditAction,
    AuditLog,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
    LedgerImmutable,
    PendingPush,
)
from events.selectors import oversold_events, sku_events
from events.services import (
    MSG_REASON_REQUIRED,
    InvalidQuantity,
    LedgerError,
    OversellRefused,
    TokenReused,
    UnknownSku,
    UnknownStore,
    event_record,
    make_token,
    stock_adjust,
    stock_set,
)
from skus.tests.factories import SkuFactory
from stores.models import Store
from stores.tests.factories import StoreFactory, StoreSkuFactory

pytestmark = pytest.mark.django_db


def order(sku_id, quantity, **kwargs):
    kwargs.setdefault("store_id", None)
    return event_record(
        sku_id=sku_id,
        quantity=quantity,
        event_type=EventType.ORDER_RECEIVED,
        source=EventSource.API,
        operator="poller",
        **kwargs,
    )


def stock_of(sku_id):
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def ledger_sum(sku_id):
    return InventoryEvent.objects.filter(sku_id=sku_id).aggregate(s=Sum("quantity"))["s"] or 0


def counts():
    return (
        InventoryEvent.objects.count(),
        AuditLog.objects.count(),
        PendingPush.objects.count(),
        list(InventorySnapshot.objects.order_by("sku_id").values_list("internal_available")),
    )


class TestRecord:
    def test_event_moves_snapshot_and_keeps_balance(self):
        sku = SkuFactory(initial_stock=10)
        event = order(sku.sku_id, -3, order_id="o-1")
        assert (event.quantity, event.balance_after, event.oversold) == (-3, 7, False)
        assert event.replayed is False
        snapshot = InventorySnapshot.objects.get(pk=sku.sku_id)
        assert snapshot.internal_available == 7 == ledger_sum(sku.sku_id)
        assert snapshot.last_event_id == event.event_id
        stored = InventoryEvent.objects.get(pk=event.event_id)
        assert (stored.order_id, stored.balance_after, stored.token) == ("o-1", 7, event.token)

    def test_same_token_ten_times_is_one_event_and_one_change(self):
        sku = SkuFactory(initial_stock=10)
        token = make_token("rakuten", "shop", "order-1", sku.sku_id)
        results = [order(sku.sku_id, -2, token=token) for _ in range(10)]
        assert InventoryEvent.objects.filter(token=token).count() == 1
        assert {r.event_id for r in results} == {results[0].event_id}
        assert [r.replayed for r in results] == [False] + [True] * 9
        assert stock_of(sku.sku_id) == 8

    def test_token_reused_for_another_change_is_refused(self):
        sku = SkuFactory(initial_stock=10)
        order(sku.sku_id, -2, token="t-1")
        before = counts()
        with pytest.raises(TokenReused, match="already used for a different change"):
            order(sku.sku_id, -5, token="t-1")
        assert counts() == before

    def test_sku_id_is_matched_whatever_its_case(self):
        sku = SkuFactory(sku_id="Tshirt-RED-M", initial_stock=4)
        event = order("TSHIRT-red-m", -1)
        assert event.sku_id == "tshirt-red-m" == sku.sku_id
        assert stock_of("tshirt-red-m") == 3

    def test_order_that_oversells_is_recorded_and_flagged(self):
        sku = SkuFactory(initial_stock=1)
        event = order(sku.sku_id, -3, order_id="o-9")
        assert (event.balance_after, event.oversold) == (-2, True)
        assert stock_of(sku.sku_id) == -2
        assert list(oversold_events()) == [event]

    def test_oversell_is_not_flagged_when_the_sku_allows_it(self):
        sku = SkuFactory(initial_stock=1, allow_oversell=True)
        event = order(sku.sku_id, -3)
        assert (event.balance_after, event.oversold) == (-2, False)
        assert not oversold_events().exists()

    def test_cancellation_of_an_oversold_order_is_not_flagged(self):
        sku = SkuFactory(initial_stock=0)
        order(sku.sku_id, -2)
        back = event_record(
            sku_id=sku.sku_id,
            quantity=2,
            event_type=EventType.ORDER_CANCELLED,
            source=EventSource.API,
            operator="poller",
        )
        assert (back.balance_after, back.oversold) == (0, False)

    def test_zero_quantity_marker_changes_nothing_and_pushes_nothing(self):
        sku = SkuFactory(initial_stock=5)
        StoreSkuFactory(sku=sku)
        PendingPush.objects.all().delete()
        event = event_record(
            sku_id=sku.sku_id,
            quantity=0,
            event_type=EventType.ORDER_CONFIRMED,
            source=EventSource.API,
            operator="poller",
        )
        assert (event.quantity, event.balance_after) == (0, 5)
        assert not PendingPush.objects.exists()

    def test_event_on_sku_without_snapshot_creates_it(self):
        sku = SkuFactory()
        InventorySnapshot.objects.filter(pk=sku.sku_id).delete()
        event = order(sku.sku_id, -1)
        assert event.balance_after == -1 == stock_of(sku.sku_id)


class TestBadInput:
    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"sku_id": "no-such-sku"}, UnknownSku, "Unknown SKU “no-such-sku”."),
            ({"sku_id": "x" * 51}, UnknownSku, "Unknown SKU"),
            ({"sku_id": ""}, UnknownSku, "Unknown SKU"),
            ({"quantity": "abc"}, InvalidQuantity, "“abc” is not a whole number"),
            ({"quantity": 1.5}, InvalidQuantity, "“1.5” is not a whole number"),
            ({"quantity": "2.0"}, InvalidQuantity, "not a whole number"),
            ({"quantity": True}, InvalidQuantity, "not a whole number"),
            ({"quantity": None}, InvalidQuantity, "not a whole number"),
            ({"quantity": 0}, InvalidQuantity, "must not be zero"),
            ({"quantity": 10**9}, InvalidQuantity, "out of range"),
            ({"store_id": "nowhere"}, UnknownStore, "Unknown store “nowhere”."),
            ({"event_type": "SHIPPED"}, LedgerError, "Unknown event type “SHIPPED”."),
            ({"source": "fax"}, LedgerError, "Unknown event source “fax”."),
            ({"token": "t" * 65}, LedgerError, "1 to 64 characters"),
            ({"token": ""}, LedgerError, "1 to 64 characters"),
        ],
    )
    def test_refused_with_a_clear_message_and_nothing_written(self, kwargs, error, message):
        sku = SkuFactory(initial_stock=5)
        StoreSkuFactory(sku=sku)
        before = counts()
        arguments = {
            "sku_id": sku.sku_id,
            "quantity": -1,
            "event_type": EventType.MANUAL_ADJUSTMENT,
            "source": EventSource.MANUAL,
            "operator": "alice",
            **kwargs,
        }
        with pytest.raises(error) as excinfo:
            event_record(**arguments)
        assert message in excinfo.value.message
        assert counts() == before

    def test_quantity_given_as_numeric_text_is_accepted(self):
        sku = SkuFactory(initial_stock=5)
        assert order(sku.sku_id, " -2 ").quantity == -2


class TestManualAdjustment:
    def test_adjustment_is_recorded_and_audited(self, actor):
        sku = SkuFactory(initial_stock=5)
        event = stock_adjust(sku_id=sku.sku_id, quantity=-2, reason="damaged", actor=actor)
        assert (event.event_type, event.source, event.operator) == (
            EventType.MANUAL_ADJUSTMENT,
            EventSource.MANUAL,
            "alice",
        )
        assert stock_of(sku.sku_id) == 3
        entry = AuditLog.objects.get(action=AuditAction.STOCK_ADJUST)
        assert (entry.user, entry.ip) == ("alice", "192.0.2.10")
        assert entry.details["sku_id"] == sku.sku_id
        assert entry.details["quantity"] == -2
        assert entry.details["reason"] == "damaged"

    def test_adjustment_below_zero_is_refused_and_writes_nothing(self, actor):
        sku = SkuFactory(sku_id="Mug-1", initial_stock=2)
        StoreSkuFactory(sku=sku)
        before = counts()
        with pytest.raises(OversellRefused) as excinfo:
            stock_adjust(sku_id=sku.sku_id, quantity=-3, reason="count", actor=actor)
        assert excinfo.value.message == (
            "Refused: this would take the stock of mug-1 from 2 to -1, "
            "and the SKU does not allow oversell."
        )
        assert counts() == before

    def test_adjustment_below_zero_is_allowed_when_the_sku_allows_oversell(self, actor):
        sku = SkuFactory(initial_stock=2, allow_oversell=True)
        event = stock_adjust(sku_id=sku.sku_id, quantity=-3, reason="preorder", actor=actor)
        assert (event.balance_after, event.oversold) == (-1, False)

    def test_reason_is_required(self, actor):
        sku = SkuFactory(initial_stock=2)
        before = counts()
        with pytest.raises(LedgerError) as excinfo:
            stock_adjust(sku_id=sku.sku_id, quantity=1, reason="  ", actor=actor)
        assert excinfo.value.message == str(MSG_REASON_REQUIRED)
        assert counts() == before

    def test_replayed_adjustment_is_audited_once(self, actor):
        sku = SkuFactory(initial_stock=2)
        for _ in range(3):
            stock_adjust(sku_id=sku.sku_id, quantity=1, reason="found", actor=actor, token="a-1")
        assert stock_of(sku.sku_id) == 3
        assert AuditLog.objects.filter(action=AuditAction.STOCK_ADJUST).count() == 1


class TestStockSet:
    def test_sets_the_stock_by_one_event_of_the_difference(self):
        sku = SkuFactory(initial_stock=7)
        event = stock_set(
            sku_id=sku.sku_id.upper(),
            target=3,
            event_type=EventType.IMPORT,
            source=EventSource.IMPORT,
            operator="alice",
        )
        assert (event.quantity, event.balance_after) == (-4, 3)

    def test_no_event_when_the_stock_already_is_the_target(self):
        sku = SkuFactory(initial_stock=7)
        assert (
            stock_set(
                sku_id=sku.sku_id,
                target=7,
                event_type=EventType.IMPORT,
                source=EventSource.IMPORT,
                operator="alice",
            )
            is None
        )
        assert InventoryEvent.objects.filter(sku=sku).count() == 1

    def test_unknown_sku(self):
        with pytest.raises(UnknownSku):
            stock_set(
                sku_id="ghost",
                target=1,
                event_type=EventType.IMPORT,
                source=EventSource.IMPORT,
                operator="alice",
            )


class TestOutbox:
    def test_one_pending_push_per_active_registered_store(self):
        sku = SkuFactory(initial_stock=10)
        stores = [StoreFactory() for _ in range(3)]
        for store in stores:
            StoreSkuFactory(store=store, sku=sku)
        Store.objects.filter(pk=stores[2].pk).update(status=Store.Status.INACTIVE)
        PendingPush.objects.all().delete()
        for _ in range(5):
            order(sku.sku_id, -1)
        rows = PendingPush.objects.order_by("store_id")
        assert [(r.store_id, r.sku_id, r.status) for r in rows] == [
            (stores[0].store_id, sku.sku_id, "pending"),
            (stores[1].store_id, sku.sku_id, "pending"),
        ]

    def test_unregistered_sku_makes_no_push(self):
        sku = SkuFactory(initial_stock=10)
        StoreFactory()
        order(sku.sku_id, -1)
        assert not PendingPush.objects.exists()

    def test_failed_push_gets_a_fresh_start_and_backoff_is_kept(self):
        sku = SkuFactory(initial_stock=10)
        failed, backing_off = StoreSkuFactory(sku=sku), StoreSkuFactory(sku=sku)
        later = "2030-01-01T00:00:00+00:00"
        PendingPush.objects.filter(store=failed.store).update(
            status="failed", attempts=8, last_error="500", next_attempt_at=later
        )
        PendingPush.objects.filter(store=backing_off.store).update(
            status="pending", attempts=2, next_attempt_at=later
        )
        order(sku.sku_id, -1)
        row = PendingPush.objects.get(store=failed.store)
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at.year < 2030
        row = PendingPush.objects.get(store=backing_off.store)
        assert (row.status, row.attempts, row.next_attempt_at.year) == ("pending", 2, 2030)

    def test_push_in_progress_is_made_due_again(self):
        registration = StoreSkuFactory(sku=SkuFactory(initial_stock=3))
        PendingPush.objects.update(status="in_progress")
        order(registration.sku_id, -1)
        assert PendingPush.objects.get().status == "pending"

    def test_refused_change_leaves_the_outbox_alone(self, actor):
        registration = StoreSkuFactory(sku=SkuFactory(initial_stock=0))
        PendingPush.objects.all().delete()
        with pytest.raises(OversellRefused):
            stock_adjust(sku_id=registration.sku_id, quantity=-1, reason="x", actor=actor)
        assert not PendingPush.objects.exists()


class TestAppendOnly:
    def test_event_cannot_be_changed_or_deleted_through_the_orm(self):
        event = order(SkuFactory(initial_stock=3).sku_id, -1)
        stored = InventoryEvent.objects.get(pk=event.pk)
        stored.quantity = 100
        with pytest.raises(LedgerImmutable, match="never changed or deleted"):
            stored.save()
        with pytest.raises(LedgerImmutable):
            stored.delete()
        with pytest.raises(LedgerImmutable):
            InventoryEvent.objects.filter(pk=event.pk).update(quantity=100)
        with pytest.raises(LedgerImmutable):
            InventoryEvent.objects.all().delete()
        with pytest.raises(LedgerImmutable):
            InventoryEvent.objects.bulk_update([stored], ["quantity"])
        assert InventoryEvent.objects.get(pk=event.pk).quantity == -1

    def test_audit_entry_cannot_be_changed_or_deleted(self, actor):
        stock_adjust(sku_id=SkuFactory(initial_stock=3).sku_id, quantity=1, reason="x", actor=actor)
        entry = AuditLog.objects.get()
        with pytest.raises(LedgerImmutable, match="Audit log entries"):
            entry.save()
        with pytest.raises(LedgerImmutable):
            entry.delete()
        with pytest.raises(LedgerImmutable):
            AuditLog.objects.update(user="mallory")
        assert AuditLog.objects.get().user == "alice"

    @pytest.mark.postgres
    def test_database_refuses_update_and_delete_of_events(self):
        from django.db import DatabaseError, transaction

        event = order(SkuFactory(initial_stock=3).sku_id, -1)
        for sql in (
            "UPDATE inventory_events SET quantity = 5 WHERE event_id = %s",
            "DELETE FROM inventory_events WHERE event_id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.event_id])
        assert InventoryEvent.objects.get(pk=event.pk).quantity == -1


def test_timeline_is_newest_first():
    sku = SkuFactory(initial_stock=3)
    order(sku.sku_id, -1)
    order(sku.sku_id, -1)
    assert [e.balance_after for e in sku_events(sku_id=sku.sku_id)] == [1, 2, 3]
