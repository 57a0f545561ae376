"""The services: purchases (read-only fields refused, soft delete), official accounts,
and the arrival rule that feeds the stock pool."""

import datetime as dt
import random

import pytest
from django.db.models import Sum

from events.models import AuditAction, AuditLog, EventType, InventoryEvent, InventorySnapshot
from events.selectors import snapshot_drift
from events.services import OversellRefused, stock_adjust
from purchasing.models import InventoryItem, Purchasing
from purchasing.selectors import purchase_items, purchase_list, with_item_count
from purchasing.services import (
    ItemInvalid,
    ItemNotFound,
    PurchaseInvalid,
    PurchaseNotFound,
    item_add,
    item_status_set,
    item_update,
    items_mark_arrived,
    official_account_create,
    official_account_update,
    purchase_create,
    purchase_delete,
    purchase_restore,
    purchase_update,
)
from purchasing.tests.factories import (
    InventoryItemFactory,
    OfficialAccountFactory,
    PurchasingFactory,
)
from skus.tests.factories import SkuFactory

pytestmark = pytest.mark.django_db

ARRIVED = InventoryItem.Status.ARRIVED
IN_TRANSIT = InventoryItem.Status.IN_TRANSIT


def available(sku_id: str) -> int:
    return InventorySnapshot.objects.get(pk=sku_id.lower()).internal_available


def receipts(sku_id: str) -> list[tuple[str, int]]:
    return list(
        InventoryEvent.objects.filter(
            sku_id=sku_id.lower(),
            event_type__in=[EventType.RECEIPT, EventType.RECEIPT_REVERSED],
        )
        .order_by("created_at", "balance_after")
        .values_list("event_type", "quantity")
    )


def assert_ledger_consistent(*items: InventoryItem) -> None:
    """Snapshots equal their events, and each item's events add up to what it counts."""
    assert snapshot_drift() == []
    for item in items:
        item.refresh_from_db()
        total = InventoryEvent.objects.filter(metadata__item_id=item.pk).aggregate(
            total=Sum("quantity")
        )["total"]
        assert (total or 0) == item.received_quantity


# --- purchases ---------------------------------------------------------------------------


class TestPurchases:
    def test_create_with_the_specs_example_body(self, actor):
        account = OfficialAccountFactory(account_id="ACC001")
        purchase = purchase_create(
            actor=actor,
            order_number="ORD20250115001",
            official_account=account.pk,
            batch_encoding="BATCH-2025-01",
            estimated_website_arrival_date="2025-01-20",
            shipping_method="Express",
            official_query_url="https://example.com/track/order",
            delivery_status="pending_confirmation",
            payment_method="credit_card",
            account_used="user@example.com",
        )
        purchase.refresh_from_db()
        assert purchase.official_account == account
        assert purchase.estimated_website_arrival_date == dt.date(2025, 1, 20)
        assert purchase.batch_level_1 == ""
        entry = AuditLog.objects.get(action=AuditAction.PURCHASE_CREATE)
        assert entry.details["uuid"] == purchase.uuid
        assert entry.details["fields"]["estimated_website_arrival_date"] == "2025-01-20"
        assert entry.user == actor.username

    @pytest.mark.parametrize(
        "field", ["uuid", "is_locked", "locked_at", "locked_by_worker", "is_deleted", "id"]
    )
    def test_read_only_fields_are_refused(self, actor, field):
        purchase = PurchasingFactory()
        with pytest.raises(PurchaseInvalid, match=field):
            purchase_update(purchase_id=purchase.pk, actor=actor, **{field: "x"})
        with pytest.raises(PurchaseInvalid, match="read-only"):
            purchase_create(actor=actor, **{field: "x"})

    def test_unknown_fields_and_bad_values_are_refused(self, actor):
        purchase = PurchasingFactory()
        with pytest.raises(PurchaseInvalid, match="no such fields: price"):
            purchase_update(purchase_id=purchase.pk, actor=actor, price=3)
        with pytest.raises(PurchaseInvalid, match="delivery status"):
            purchase_update(purchase_id=purchase.pk, actor=actor, delivery_status="lost")
        with pytest.raises(PurchaseInvalid, match="at most 10"):
            purchase_update(purchase_id=purchase.pk, actor=actor, latest_delivery_status="x" * 11)
        with pytest.raises(PurchaseInvalid, match="at most 50"):
            purchase_create(actor=actor, tracking_number="T" * 51)
        with pytest.raises(PurchaseInvalid, match="official account"):
            purchase_update(purchase_id=purchase.pk, actor=actor, official_account=999)
        with pytest.raises(PurchaseNotFound):
            purchase_update(purchase_id=999_999, actor=actor, order_number="x")

    def test_update_audits_what_changed_and_nothing_else(self, actor):
        purchase = PurchasingFactory(order_number="ORD-1")
        shipped = dt.datetime(2025, 1, 20, 9, 0, tzinfo=dt.UTC)
        updated = purchase_update(
            purchase_id=purchase.pk,
            actor=actor,
            delivery_status="shipped",
            shipped_at=shipped,
            tracking_number=" TRACK789 ",
            order_number="ORD-1",
            payment_method=None,
        )
        assert (updated.delivery_status, updated.tracking_number) == ("shipped", "TRACK789")
        assert updated.get_delivery_status_display() == "shipped"
        entry = AuditLog.objects.get(action=AuditAction.PURCHASE_UPDATE)
        assert entry.details["changes"] == {
            "delivery_status": ["pending_confirmation", "shipped"],
            "shipped_at": [None, shipped.isoformat()],
            "tracking_number": ["", "TRACK789"],
        }
        purchase_update(purchase_id=purchase.pk, actor=actor, delivery_status="shipped")
        assert AuditLog.objects.filter(action=AuditAction.PURCHASE_UPDATE).count() == 1

    def test_account_is_set_and_cleared(self, actor):
        account = OfficialAccountFactory()
        purchase = PurchasingFactory()
        purchase_update(purchase_id=purchase.pk, actor=actor, official_account=account.pk)
        assert Purchasing.objects.get(pk=purchase.pk).official_account == account
        purchase_update(purchase_id=purchase.pk, actor=actor, official_account=None)
        assert Purchasing.objects.get(pk=purchase.pk).official_account is None
        changes = [
            e.details["changes"]["official_account"]
            for e in AuditLog.objects.filter(action=AuditAction.PURCHASE_UPDATE).order_by(
                "created_at"
            )
        ]
        assert changes == [[None, account.pk], [account.pk, None]]

    def test_soft_delete_hides_the_purchase_and_keeps_its_stock(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3, status=ARRIVED)
        purchase = item.purchase
        kept = PurchasingFactory()
        deleted = purchase_delete(purchase_id=purchase.pk, actor=actor)
        assert deleted.is_deleted
        assert list(purchase_list()) == [kept]
        assert set(purchase_list(include_deleted=True)) == {kept, purchase}
        assert Purchasing.objects.filter(pk=purchase.pk).exists()
        assert available(sku.sku_id) == 13
        # Deleting again changes nothing; restoring brings it back.
        purchase_delete(purchase_id=purchase.pk, actor=actor)
        assert AuditLog.objects.filter(action=AuditAction.PURCHASE_DELETE).count() == 1
        purchase_restore(purchase_id=purchase.pk, actor=actor)
        assert set(purchase_list()) == {kept, purchase}

    def test_no_item_is_added_to_a_deleted_purchase(self, actor):
        purchase = PurchasingFactory()
        purchase_delete(purchase_id=purchase.pk, actor=actor)
        with pytest.raises(PurchaseInvalid, match="deleted"):
            item_add(purchase_id=purchase.pk, actor=actor)

    def test_list_selector_counts_items_without_n_plus_one(self, django_assert_num_queries, sku):
        for _ in range(3):
            purchase = PurchasingFactory(official_account=OfficialAccountFactory().pk)
            InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id)
            InventoryItemFactory(purchase=purchase)
        with django_assert_num_queries(2):
            rows = [
                (
                    len(p.purchasing_inventories.all()),
                    p.official_account.account_id,
                    [i.sku for i in p.purchasing_inventories.all()],
                )
                for p in purchase_list()
            ]
        assert [count for count, *_ in rows] == [2, 2, 2]
        counted = with_item_count(purchase_list())
        assert [p.inventory_count for p in counted] == [2, 2, 2]
        assert len(purchase_items(purchase_id=purchase.pk)) == 2


class TestOfficialAccounts:
    def test_create_update_and_audit(self, actor):
        account = official_account_create(account_id=" ACC9 ", email="a@example.com", actor=actor)
        assert account.account_id == "ACC9"
        official_account_update(account_pk=account.pk, actor=actor, name="山田")
        account.refresh_from_db()
        assert account.name == "山田"
        entries = AuditLog.objects.filter(action=AuditAction.OFFICIAL_ACCOUNT_CHANGE)
        assert entries.count() == 2

    def test_refusals(self, actor):
        account = official_account_create(account_id="ACC1", actor=actor)
        other = official_account_create(account_id="ACC2", actor=actor)
        with pytest.raises(PurchaseInvalid, match="already exists"):
            official_account_create(account_id="ACC1", actor=actor)
        with pytest.raises(PurchaseInvalid, match="already exists"):
            official_account_update(account_pk=other.pk, actor=actor, account_id="ACC1")
        with pytest.raises(PurchaseInvalid, match="email"):
            official_account_update(account_pk=account.pk, actor=actor, email="not-an-email")
        with pytest.raises(PurchaseInvalid, match="cannot be changed: id"):
            official_account_update(account_pk=account.pk, actor=actor, id=5)
        with pytest.raises(PurchaseInvalid, match="Unknown official account"):
            official_account_update(account_pk=999, actor=actor, name="x")


# --- the arrival rule --------------------------------------------------------------------


class TestArrivalRule:
    def test_arrival_adds_the_quantity_once(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3)
        assert available(sku.sku_id) == 10
        item_status_set(item_id=item.pk, status=ARRIVED, actor=actor)
        assert available(sku.sku_id) == 13
        event = InventoryEvent.objects.get(event_type=EventType.RECEIPT)
        assert (event.quantity, event.operator, event.source) == (3, "alice", "manual")
        assert event.metadata["item_uuid"] == item.uuid
        assert event.metadata["purchase_uuid"] == item.purchase.uuid
        # A replay of the same change adds nothing, and writes no audit entry.
        audits = AuditLog.objects.count()
        item_status_set(item_id=item.pk, status=ARRIVED, actor=actor)
        item_update(item_id=item.pk, actor=actor, status="arrived", quantity="3")
        assert available(sku.sku_id) == 13
        assert receipts(sku.sku_id) == [("RECEIPT", 3)]
        assert AuditLog.objects.count() == audits
        assert_ledger_consistent(item)

    @pytest.mark.parametrize("status", ["abnormal", "out_of_stock", "in_transit"])
    def test_leaving_arrived_takes_the_units_back(self, actor, sku, status):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=4, status=ARRIVED)
        assert available(sku.sku_id) == 14
        item_status_set(item_id=item.pk, status=status, actor=actor)
        assert available(sku.sku_id) == 10
        assert receipts(sku.sku_id) == [("RECEIPT", 4), ("RECEIPT_REVERSED", -4)]
        item_status_set(item_id=item.pk, status=status, actor=actor)
        item_status_set(item_id=item.pk, status="abnormal", actor=actor)
        assert available(sku.sku_id) == 10
        assert len(receipts(sku.sku_id)) == 2
        assert_ledger_consistent(item)

    def test_arrived_in_transit_arrived_counts_once(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=2)
        for status in [ARRIVED, IN_TRANSIT, ARRIVED, ARRIVED]:
            item_status_set(item_id=item.pk, status=status, actor=actor)
        assert available(sku.sku_id) == 12
        assert receipts(sku.sku_id) == [
            ("RECEIPT", 2),
            ("RECEIPT_REVERSED", -2),
            ("RECEIPT", 2),
        ]
        # Three stock changes, three tokens.
        item.refresh_from_db()
        assert item.receipt_revision == 3
        assert (
            InventoryEvent.objects.filter(metadata__item_id=item.pk)
            .values("token")
            .distinct()
            .count()
            == 3
        )
        assert_ledger_consistent(item)

    def test_without_a_sku_nothing_is_counted_until_one_is_linked(self, actor, sku):
        item = InventoryItemFactory(quantity=5)
        item_status_set(item_id=item.pk, status=ARRIVED, actor=actor)
        assert InventoryEvent.objects.filter(event_type=EventType.RECEIPT).count() == 0
        item_update(item_id=item.pk, actor=actor, sku_id="IPHONE-15-BLUE")
        assert available(sku.sku_id) == 15
        item.refresh_from_db()
        assert (item.received_sku_id, item.received_quantity) == (sku.sku_id, 5)
        # Unlinking takes the units back.
        item_update(item_id=item.pk, actor=actor, sku_id=None)
        assert available(sku.sku_id) == 10
        assert_ledger_consistent(item)

    def test_moving_an_arrived_item_to_another_sku(self, actor, sku, other_sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3, status=ARRIVED)
        item_update(item_id=item.pk, actor=actor, sku_id=other_sku.sku_id, quantity=2)
        assert (available(sku.sku_id), available(other_sku.sku_id)) == (10, 2)
        assert receipts(sku.sku_id) == [("RECEIPT", 3), ("RECEIPT_REVERSED", -3)]
        assert receipts(other_sku.sku_id) == [("RECEIPT", 2)]
        assert_ledger_consistent(item)

    def test_quantity_change_of_an_arrived_item_corrects_by_the_difference(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3, status=ARRIVED)
        item_update(item_id=item.pk, actor=actor, quantity=5)
        assert available(sku.sku_id) == 15
        item_update(item_id=item.pk, actor=actor, quantity=1)
        assert available(sku.sku_id) == 11
        assert receipts(sku.sku_id) == [
            ("RECEIPT", 3),
            ("RECEIPT", 2),
            ("RECEIPT_REVERSED", -4),
        ]
        # Not arrived: the quantity changes, the stock does not.
        item_status_set(item_id=item.pk, status=IN_TRANSIT, actor=actor)
        item_update(item_id=item.pk, actor=actor, quantity=9)
        assert available(sku.sku_id) == 10
        assert_ledger_consistent(item)

    def test_each_change_is_audited_with_its_events(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3)
        item_status_set(item_id=item.pk, status=ARRIVED, actor=actor)
        entry = AuditLog.objects.get(action=AuditAction.PURCHASE_ITEM_UPDATE)
        assert entry.details["changes"] == {"status": ["in_transit", "arrived"]}
        assert entry.details["events"] == [{"sku_id": sku.sku_id, "quantity": 3}]
        assert entry.details["uuid"] == item.uuid
        added = AuditLog.objects.get(action=AuditAction.PURCHASE_ITEM_ADD)
        assert added.details["item"] == item.pk

    def test_taking_back_units_already_sold_is_refused(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3, status=ARRIVED)
        stock_adjust(sku_id=sku.sku_id, quantity=-12, reason="sold", actor=actor)
        with pytest.raises(OversellRefused):
            item_status_set(item_id=item.pk, status="abnormal", actor=actor)
        item.refresh_from_db()
        assert (item.status, item.received_quantity) == (ARRIVED, 3)
        assert available(sku.sku_id) == 1
        assert_ledger_consistent(item)

    def test_a_sku_allowing_oversell_may_go_below_zero(self, actor):
        sku = SkuFactory(sku_id="loose", allow_oversell=True)
        item = InventoryItemFactory(sku_id="loose", quantity=3, status=ARRIVED)
        stock_adjust(sku_id=sku.sku_id, quantity=-3, reason="sold", actor=actor)
        item_status_set(item_id=item.pk, status="abnormal", actor=actor)
        assert available("loose") == -3

    def test_bad_item_input_is_refused(self, actor, sku):
        item = InventoryItemFactory()
        with pytest.raises(ItemInvalid, match="at least 1"):
            item_update(item_id=item.pk, actor=actor, quantity=0)
        with pytest.raises(ItemInvalid, match="whole number"):
            item_update(item_id=item.pk, actor=actor, quantity="two")
        with pytest.raises(ItemInvalid, match="Unknown SKU"):
            item_update(item_id=item.pk, actor=actor, sku_id="nope")
        with pytest.raises(ItemInvalid, match="Unknown SKU"):
            item_add(purchase_id=item.purchase_id, actor=actor, sku_id="a b")
        with pytest.raises(ItemInvalid, match="status"):
            item_status_set(item_id=item.pk, status="lost", actor=actor)
        with pytest.raises(ItemInvalid, match="cannot be changed: received_quantity"):
            item_update(item_id=item.pk, actor=actor, received_quantity=5)
        with pytest.raises(ItemNotFound):
            item_status_set(item_id=999_999, status=ARRIVED, actor=actor)

    def test_an_item_added_as_arrived_counts_at_once(self, actor, sku):
        item = item_add(
            purchase_id=PurchasingFactory().pk,
            actor=actor,
            sku_id=sku.sku_id,
            quantity=2,
            status=ARRIVED,
            flag="FLAG001",
            product_type="iPhone",
        )
        assert available(sku.sku_id) == 12
        assert item.received_quantity == 2
        assert_ledger_consistent(item)


class TestBulkArrival:
    def test_mark_many_arrived_in_one_transaction(self, actor, sku, other_sku):
        purchase = PurchasingFactory()
        first = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=2)
        second = InventoryItemFactory(purchase=purchase, sku_id=other_sku.sku_id, quantity=3)
        already = InventoryItemFactory(
            purchase=purchase, sku_id=sku.sku_id, quantity=1, status=ARRIVED
        )
        unlinked = InventoryItemFactory(purchase=purchase)
        items = items_mark_arrived(
            item_ids=[second.pk, first.pk, already.pk, unlinked.pk], actor=actor
        )
        assert [item.pk for item in items] == sorted([first.pk, second.pk, already.pk, unlinked.pk])
        assert {item.status for item in items} == {ARRIVED}
        assert (available(sku.sku_id), available(other_sku.sku_id)) == (13, 3)
        # Again: nothing more.
        items_mark_arrived(item_ids=[first.pk, second.pk], actor=actor)
        assert (available(sku.sku_id), available(other_sku.sku_id)) == (13, 3)
        assert_ledger_consistent(first, second, already, unlinked)

    def test_an_unknown_item_changes_nothing(self, actor, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=2)
        with pytest.raises(ItemNotFound, match="999999"):
            items_mark_arrived(item_ids=[item.pk, 999_999], actor=actor)
        with pytest.raises(ItemNotFound, match="abc"):
            items_mark_arrived(item_ids=[item.pk, "abc"], actor=actor)
        item.refresh_from_db()
        assert item.status == IN_TRANSIT
        assert available(sku.sku_id) == 10


def test_many_random_changes_keep_the_ledger_consistent(actor, sku, other_sku):
    """Whatever sequence of changes, each item's events add up to what it counts, and
    that is its quantity exactly when it is arrived with a SKU."""
    rng = random.Random(17)
    items = [InventoryItemFactory(quantity=rng.randint(1, 4)) for _ in range(4)]
    for _ in range(80):
        item = rng.choice(items)
        change = rng.choice(["status", "sku", "quantity"])
        if change == "status":
            value = {"status": rng.choice(InventoryItem.Status.values)}
        elif change == "sku":
            value = {"sku_id": rng.choice([None, sku.sku_id, other_sku.sku_id])}
        else:
            value = {"quantity": rng.randint(1, 5)}
        item_update(item_id=item.pk, actor=actor, **value)
    assert_ledger_consistent(*items)
    for item in items:
        counts = item.status == ARRIVED and item.sku_id is not None
        assert item.received_quantity == (item.quantity if counts else 0)
        assert item.received_sku_id == (item.sku_id if counts else None)
    expected = 10 + sum(i.received_quantity for i in items if i.received_sku_id == sku.sku_id)
    assert available(sku.sku_id) == expected
