"""Set (bundle) SKUs: availability from components, definition rules, the ledger refusing
a set's own stock, orders of a set taking and giving back its components, and a
component's change making its sets due."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from events.actors import Actor
from events.models import AuditAction, AuditLog, EventType, InventoryEvent, PendingPush
from events.selectors import snapshot_drift
from events.services import (
    SetHasNoStock,
    event_record,
    stock_adjust,
    stock_set,
    stock_set_many,
)
from skus.models import Sku, SkuComponent
from skus.services import SkuInvalid, env_test_reset, set_define
from skus.sets import availability, available_expression, set_available
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory, StoreSkuFactory
from sync.adapters import OrderLineSnapshot, OrderSnapshot
from sync.models import OrderLine, OrderSkuState
from sync.orders import orders_apply

pytestmark = pytest.mark.django_db

STAFF = Actor.cli("kenji")


@pytest.fixture
def gift():
    """A gift set of 2 towels and 1 soap; towels 10, soap 4: the set can sell 4."""
    towel = SkuFactory(sku_id="towel", initial_stock=10)
    soap = SkuFactory(sku_id="soap", initial_stock=4)
    box = SkuFactory(sku_id="gift-box")
    set_define(sku_id="gift-box", components=[("towel", 2), ("soap", 1)], actor=STAFF)
    return box, towel, soap


def test_a_set_sells_what_its_components_allow(gift):
    assert availability(["gift-box", "towel", "soap"]) == {"gift-box": 4, "towel": 10, "soap": 4}
    stock_adjust(sku_id="towel", quantity=-5, reason="damaged", actor=STAFF)  # towels 5
    assert availability(["gift-box"]) == {"gift-box": 2}  # 5 // 2


@given(st.lists(st.tuples(st.integers(-50, 500), st.integers(1, 9)), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_set_availability_is_the_smallest_component_share(components):
    result = set_available(components)
    # Never more of the set than any component allows, and exactly as many as the scarcest.
    assert all(result * quantity <= available for available, quantity in components)
    assert any((result + 1) * quantity > available for available, quantity in components)


def test_the_database_computes_the_same_availability_as_python(gift):
    del gift  # the set and its components exist
    SkuFactory(sku_id="plain", initial_stock=7)
    # An oversold component makes the set negative, rounded down as in Python.
    stock_adjust(sku_id="soap", quantity=-4, reason="count", actor=STAFF)
    event_record(
        sku_id="soap",
        quantity=-3,
        event_type=EventType.ORDER_RECEIVED,
        source="api",
        operator="t",
    )
    SkuComponent.objects.filter(set_id="gift-box", component_id="soap").update(quantity=2)
    rows = dict(
        Sku.objects.filter(sku_id__in=["gift-box", "plain", "towel"])
        .annotate(available=available_expression("sku_id"))
        .values_list("sku_id", "available")
    )
    assert rows == {"gift-box": -2, "plain": 7, "towel": 10}  # soap -3 // 2 == -2
    assert availability(rows) == rows


def test_defining_a_set_is_audited_and_pushes_the_set(gift):
    box, _towel, _soap = gift
    store = StoreFactory()
    StoreSkuFactory(store=store, sku=box)
    PendingPush.objects.all().delete()
    set_define(sku_id="gift-box", components=[("towel", 1), ("soap", 1)], actor=STAFF)
    assert PendingPush.objects.get(store=store).sku_id == "gift-box"
    audit = AuditLog.objects.filter(action=AuditAction.SET_DEFINE).latest("created_at")
    assert audit.details["components"] == {"towel": 1, "soap": 1}
    assert audit.details["before"] == {"towel": 2, "soap": 1}


def test_a_component_listed_twice_counts_twice():
    SkuFactory(sku_id="cup", initial_stock=9)
    SkuFactory(sku_id="pair")
    assert set_define(sku_id="pair", components=[("CUP", 1), ("cup", "2")], actor=STAFF) == {
        "cup": 3
    }
    assert availability(["pair"]) == {"pair": 3}


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([("gift-box", 1)], "cannot be a component of itself"),
        ([("nothing-here", 1)], "Unknown SKU “nothing-here”"),
        ([("towel", 0)], "from 1 to 999"),
        ([("towel", "two")], "from 1 to 999"),
        ([("towel", 600), ("towel", 600)], "from 1 to 999"),
        ([("bad id", 1)], "spaces"),
    ],
)
def test_bad_components_are_refused_and_change_nothing(gift, components, message):
    with pytest.raises(SkuInvalid, match=message):
        set_define(sku_id="gift-box", components=components, actor=STAFF)
    assert dict(
        SkuComponent.objects.filter(set_id="gift-box").values_list("component_id", "quantity")
    ) == {"towel": 2, "soap": 1}


def test_sets_of_sets_are_refused(gift):
    SkuFactory(sku_id="hamper")
    with pytest.raises(SkuInvalid, match="sets of sets"):
        set_define(sku_id="hamper", components=[("gift-box", 1)], actor=STAFF)
    # Nor can a component become a set.
    SkuFactory(sku_id="ribbon")
    with pytest.raises(SkuInvalid, match="component of the set “gift-box”"):
        set_define(sku_id="towel", components=[("ribbon", 1)], actor=STAFF)
    assert not SkuComponent.objects.filter(set_id__in=["hamper", "towel"]).exists()


def test_a_sku_with_stock_events_of_its_own_cannot_become_a_set(gift):
    SkuFactory(sku_id="mug", initial_stock=1)
    with pytest.raises(SkuInvalid, match="stock events of its own"):
        set_define(sku_id="mug", components=[("towel", 1)], actor=STAFF)


def test_no_components_makes_it_a_plain_sku_again(gift):
    set_define(sku_id="gift-box", components=[], actor=STAFF)
    assert not SkuComponent.objects.filter(set_id="gift-box").exists()
    assert availability(["gift-box"]) == {"gift-box": 0}
    stock_adjust(sku_id="gift-box", quantity=3, reason="found", actor=STAFF)  # allowed again


def test_the_ledger_refuses_any_stock_of_a_set_and_writes_nothing(gift):
    before = InventoryEvent.objects.count()
    with pytest.raises(SetHasNoStock, match="is a set"):
        stock_adjust(sku_id="gift-box", quantity=5, reason="count", actor=STAFF)
    with pytest.raises(SetHasNoStock):
        event_record(
            sku_id="gift-box",
            quantity=-1,
            event_type=EventType.ORDER_RECEIVED,
            source="api",
            operator="t",
        )
    # (stock_set and stock_set_many join their caller's transaction, as imports call them.)
    with pytest.raises(SetHasNoStock), transaction.atomic():
        stock_set(
            sku_id="gift-box", target=3, event_type=EventType.IMPORT, source="import", operator="t"
        )
    with pytest.raises(SetHasNoStock), transaction.atomic():
        stock_set_many(
            targets=[("towel", 3, "tok-1"), ("gift-box", 3, "tok-2")],
            event_type=EventType.IMPORT,
            source="import",
            operator="t",
        )
    assert InventoryEvent.objects.count() == before
    assert availability(["towel"]) == {"towel": 10}


def test_a_test_reset_leaves_a_test_set_alone(gift):
    SkuFactory(sku_id="t-part", initial_stock=2, environment="test")
    SkuFactory(sku_id="t-set", environment="test")
    set_define(sku_id="t-set", components=[("t-part", 1)], actor=STAFF)
    env_test_reset(actor=STAFF, stock=5)
    assert availability(["t-part", "t-set", "ce1111"]) == {"t-part": 0, "t-set": 0, "ce1111": 5}


def test_a_component_change_makes_its_sets_due(gift):
    box, towel, _soap = gift
    store, other = StoreFactory(), StoreFactory()
    StoreSkuFactory(store=store, sku=box)
    StoreSkuFactory(store=other, sku=towel)
    PendingPush.objects.all().delete()
    stock_adjust(sku_id="towel", quantity=-1, reason="damaged", actor=STAFF)
    assert set(PendingPush.objects.values_list("store_id", "sku_id")) == {
        (store.store_id, "gift-box"),
        (other.store_id, "towel"),
    }
    # The bulk path (imports) too.
    PendingPush.objects.all().delete()
    stock_set_many(
        targets=[("soap", 9, "tok-soap")],
        event_type=EventType.IMPORT,
        source="import",
        operator="t",
    )
    assert set(PendingPush.objects.values_list("store_id", "sku_id")) == {
        (store.store_id, "gift-box")
    }


# --- orders of a set --------------------------------------------------------------


def order(number, *lines, cancelled=False):
    return OrderSnapshot(
        number=number,
        status="300" if not cancelled else "900",
        ordered_at=timezone.now(),
        lines=tuple(
            OrderLineSnapshot(listing={"item": sku}, units=units, line_id=f"{number}-{i}")
            for i, (sku, units) in enumerate(lines)
        ),
        cancelled=cancelled,
    )


def apply(store, *snapshots):
    return orders_apply(
        store=store,
        snapshots=snapshots,
        matcher=lambda listing: listing.get("item"),
        now=timezone.now(),
    )


def stock():
    return availability(["gift-box", "towel", "soap"])


def test_an_order_of_a_set_takes_its_components_and_a_cancel_gives_them_back(gift):
    store = StoreFactory()
    apply(store, order("o-1", ("gift-box", 2), ("towel", 1)))
    # 2 sets take 4 towels and 2 soaps; the towel line takes 1 more: one event per SKU.
    assert stock() == {"gift-box": 2, "towel": 5, "soap": 2}
    towel_event = InventoryEvent.objects.get(order_id="o-1", sku_id="towel")
    assert towel_event.quantity == -5
    assert towel_event.metadata["sets"] == ["gift-box"]
    assert not InventoryEvent.objects.filter(sku_id="gift-box").exists()
    line = OrderLine.objects.get(order__order_number="o-1", sku_id="gift-box")
    assert line.components == {"towel": 2, "soap": 1}
    # Replays add nothing.
    for _ in range(3):
        apply(store, order("o-1", ("gift-box", 2), ("towel", 1)))
    assert stock() == {"gift-box": 2, "towel": 5, "soap": 2}
    # A change to 1 set gives back one set's components.
    apply(store, order("o-1", ("gift-box", 1), ("towel", 1)))
    assert stock() == {"gift-box": 3, "towel": 7, "soap": 3}
    # Cancelled: everything back.
    apply(store, order("o-1", ("gift-box", 1), ("towel", 1), cancelled=True))
    assert stock() == {"gift-box": 4, "towel": 10, "soap": 4}
    assert snapshot_drift() == []
    for sku_id in ("towel", "soap"):
        taken = sum(
            InventoryEvent.objects.filter(order_id="o-1", sku_id=sku_id).values_list(
                "quantity", flat=True
            )
        )
        assert taken == 0
        assert OrderSkuState.objects.get(order__order_number="o-1", sku_id=sku_id).taken == 0


def test_an_order_keeps_the_recipe_it_was_taken_with(gift):
    store = StoreFactory()
    apply(store, order("o-2", ("gift-box", 1)))
    assert stock()["towel"] == 8
    # The recipe changes afterwards: the order's cancellation gives back what it took.
    set_define(sku_id="gift-box", components=[("towel", 3)], actor=STAFF)
    apply(store, order("o-2", ("gift-box", 1), cancelled=True))
    assert availability(["towel", "soap"]) == {"towel": 10, "soap": 4}
    assert snapshot_drift() == []


def test_an_oversold_set_flags_the_component_that_ran_out(gift):
    store = StoreFactory()
    apply(store, order("o-3", ("gift-box", 5)))  # 5 sets need 5 soaps, 4 in stock
    soap = InventoryEvent.objects.get(order_id="o-3", sku_id="soap")
    assert (soap.quantity, soap.balance_after, soap.oversold) == (-5, -1, True)
    assert InventoryEvent.objects.get(order_id="o-3", sku_id="towel").oversold is False
    assert availability(["gift-box"]) == {"gift-box": -1}


def test_set_quantities_are_checked_by_the_database(gift):
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuComponent.objects.filter(set_id="gift-box").update(quantity=F("quantity") * 0)
