"""Issue 19 through the RMS sandbox: a set sold in one shop and its components in
another, with allocation rules, converging like any order."""

import datetime as dt

import pytest
from django.utils import timezone

from events.actors import Actor
from events.selectors import snapshot_drift
from skus.services import set_define, sku_create
from skus.sets import availability
from stores.services import allocation_rule_save
from sync.orders import orders_poll
from sync.push import push_run
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db

STAFF = Actor.cli("kenji")
LATER = dt.timedelta(minutes=10)


@pytest.fixture
def gift(engine):
    """store-a sells a gift set of 2 red M T-shirts and a navy towel (25 and 3 in stock)."""
    engine.sandbox.item_add(
        "store-a", {"manageNumber": "gift", "variants": [{"variantId": "Gift-1", "quantity": 0}]}
    )
    sku_create(sku_id="Gift-1", sku_name="Gift set", actor=STAFF)
    set_define(sku_id="gift-1", components=[("tshirt-red-m", 2), ("towel-navy", 1)], actor=STAFF)
    store_sku_register(
        store_id="store-a", sku_id="gift-1", manage_number="gift", variant_id="Gift-1", actor=STAFF
    )
    return engine


def push_all(now):
    for store_id in ("store-a", "store-b", "store-c"):
        push_run(store_id=store_id, now=now)


def test_a_set_is_pushed_as_its_components_allow_and_its_order_lowers_them(gift):
    engine = gift
    now = timezone.now()
    push_all(now)
    assert engine.shown("store-a", "Gift-1", "gift") == 3  # min(25 // 2, 3 // 1)
    # A set ordered in store-a takes its components: the T-shirt and towel fall everywhere.
    engine.order("store-a", "Gift-1", units=2, manage_number="gift")
    orders_poll(store_id="store-a", now=now + dt.timedelta(minutes=1))
    assert availability(["tshirt-red-m", "towel-navy", "gift-1"]) == {
        "tshirt-red-m": 21,
        "towel-navy": 1,
        "gift-1": 1,
    }
    push_all(now + LATER)
    assert engine.shown("store-b", "Tshirt-RED-M") == 21
    assert engine.shown("store-b", "Towel-NAVY", "towel") == 1
    assert engine.shown("store-a", "Gift-1", "gift") == 1
    # A towel sold in store-c leaves no gift set to sell in store-a.
    engine.order("store-c", "Towel-NAVY", units=1, manage_number="towel")
    orders_poll(store_id="store-c", now=now + dt.timedelta(minutes=11))
    push_all(now + 2 * LATER)
    assert engine.shown("store-a", "Gift-1", "gift") == 0
    assert snapshot_drift() == []


def test_rules_shape_what_each_store_is_told(gift):
    engine = gift
    allocation_rule_save(actor=STAFF, store_id="store-b", kind="share", value=80)
    allocation_rule_save(
        actor=STAFF, store_id="store-c", sku_id="tshirt-red-m", kind="cap", value=10
    )
    allocation_rule_save(actor=STAFF, store_id="store-a", kind="zero_below", value=4)
    push_all(timezone.now())
    assert engine.shown("store-b", "Tshirt-RED-M") == 20  # 80 % of 25
    assert engine.shown("store-b", "Tshirt-RED-L") == 9  # 80 % of 12, rounded down
    assert engine.shown("store-c", "Tshirt-RED-M") == 10  # the cap
    assert engine.shown("store-c", "Tshirt-RED-L") == 12  # the cap is for red M only
    assert engine.shown("store-a", "Towel-NAVY", "towel") == 0  # 3 is below 4
    assert engine.shown("store-a", "Gift-1", "gift") == 0  # the gift set too (3 < 4)
    assert engine.shown("store-a", "Tshirt-RED-M") == 25


def test_the_reconcile_expects_what_the_rules_and_sets_say(gift):
    """A store told 80 % of a set's components is in step: no drift reported or repaired;
    a quantity changed behind our back is drift against that same figure."""
    from sync.catalog import reconcile_run

    engine = gift
    allocation_rule_save(actor=STAFF, store_id="store-a", kind="share", value=80)
    push_all(timezone.now())
    assert engine.shown("store-a", "Gift-1", "gift") == 2  # 80 % of 3
    run = reconcile_run(store_id="store-a")
    assert run.counts.get("drift", 0) == 0
    engine.sandbox.stock_set("store-a", "gift", "Gift-1", 3)
    run = reconcile_run(store_id="store-a")
    assert run.details["drift"] == [
        {"sku_id": "gift-1", "platform": 3, "last_pushed": 2, "expected": 2}
    ]
