"""Allocation rules: what a store is told from the pool, each rule and their combination,
which rule is in force, the services that write rules, and the push applying them."""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from events.actors import Actor
from events.models import AuditAction, AuditLog, PendingPush
from stores.allocation import Chosen, StoreRules, allocate, store_quantity
from stores.models import AllocationRule
from stores.services import (
    StoreInvalid,
    allocation_edges_apply,
    allocation_rule_delete,
    allocation_rule_save,
    store_update,
)
from stores.tests.factories import StoreFactory, StoreSkuFactory

Kind = AllocationRule.Kind
STAFF = Actor.cli("kenji")
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def rules(**values):
    return {kind: Chosen(kind, value, "store") for kind, value in values.items()}


@pytest.mark.parametrize(
    ("available", "values", "maximum", "quantity"),
    [
        (100, {}, None, 100),
        (100, {"buffer": 5}, None, 95),
        (100, {"share": 80}, None, 80),
        (99, {"share": 80}, None, 79),  # 79.2 rounded down
        (100, {"cap": 30}, None, 30),
        (4, {"zero_below": 5}, None, 0),
        (5, {"zero_below": 5}, None, 5),
        (100, {"share": 50, "buffer": 10, "cap": 30}, None, 30),
        (40, {"share": 50, "buffer": 10, "cap": 30}, None, 10),
        (3, {"buffer": 5}, None, 0),  # never negative
        (-4, {}, None, 0),  # an oversold pool shows 0
        (100_000, {}, 99_999, 99_999),  # the platform's limit
    ],
)
def test_each_rule_and_their_combination(available, values, maximum, quantity):
    assert allocate(available, rules(**values), maximum).quantity == quantity


def test_the_steps_say_what_each_rule_did():
    allocation = allocate(100, rules(share=80, buffer=5, cap=50), 60)
    assert [(s.kind, s.before, s.after) for s in allocation.steps] == [
        ("share", 100, 80),
        ("buffer", 80, 75),
        ("cap", 75, 50),
    ]
    assert allocation.steps[0].label == "share 80 %"
    assert allocation.steps[1].effect == -5
    floor = allocate(2, rules(buffer=5)).steps[-1]
    assert (floor.kind, floor.before, floor.after) == ("floor", -3, 0)


def test_the_old_safety_rule_is_a_buffer_only():
    assert store_quantity(10, 3) == 7
    assert store_quantity(10, 0, 8) == 8
    assert store_quantity(2, 3) == 0


@given(
    available=st.integers(-1000, 10**6),
    buffer=st.none() | st.integers(0, 10**4),
    share=st.none() | st.integers(0, 100),
    cap=st.none() | st.integers(0, 10**5),
    zero_below=st.none() | st.integers(0, 10**4),
    maximum=st.none() | st.integers(0, 99_999),
)
def test_a_store_is_never_told_more_than_available_or_the_cap_nor_below_zero(
    available, buffer, share, cap, zero_below, maximum
):
    chosen = {
        kind: value
        for kind, value in {
            "buffer": buffer,
            "share": share,
            "cap": cap,
            "zero_below": zero_below,
        }.items()
        if value is not None
    }
    quantity = allocate(available, rules(**chosen), maximum).quantity
    assert 0 <= quantity <= max(available, 0)
    if cap is not None:
        assert quantity <= cap
    if maximum is not None:
        assert quantity <= maximum
    if zero_below is not None and available < zero_below:
        assert quantity == 0
    if buffer is not None:
        assert quantity <= max(available - buffer, 0)


# --- which rule is in force ------------------------------------------------------------


def rule(store, kind, value, sku=None, starts=None, ends=None):
    return AllocationRule.objects.create(
        store=store, sku=sku, kind=kind, value=value, starts_at=starts, ends_at=ends
    )


@pytest.mark.django_db
def test_a_sku_rule_beats_the_store_rule_and_a_period_beats_both():
    registration = StoreSkuFactory()
    store, sku = registration.store, registration.sku
    rule(store, Kind.SHARE, 80)
    assert StoreRules(store, NOW).for_sku(sku.sku_id, None)[Kind.SHARE].value == 80
    rule(store, Kind.SHARE, 60, sku=sku)
    chosen = StoreRules(store, NOW).for_sku(sku.sku_id, None)[Kind.SHARE]
    assert (chosen.value, chosen.source) == (60, "sku")
    sale = rule(
        store, Kind.SHARE, 100, starts=NOW - dt.timedelta(hours=1), ends=NOW + dt.timedelta(hours=1)
    )
    chosen = StoreRules(store, NOW).for_sku(sku.sku_id, None)[Kind.SHARE]
    assert (chosen.value, chosen.source, chosen.rule_id) == (100, "store_window", sale.pk)
    # Outside its period the standing rules are back.
    later = NOW + dt.timedelta(hours=2)
    assert StoreRules(store, later).for_sku(sku.sku_id, None)[Kind.SHARE].value == 60
    earlier = NOW - dt.timedelta(hours=2)
    assert StoreRules(store, earlier).for_sku(sku.sku_id, None)[Kind.SHARE].value == 60


@pytest.mark.django_db
def test_the_buffer_is_the_safety_stock_unless_a_period_says_otherwise():
    registration = StoreSkuFactory()
    store, sku = registration.store, registration.sku
    store_update(store_id=store.store_id, safety_stock=4, actor=STAFF)
    store.refresh_from_db()
    assert StoreRules(store, NOW).for_sku(sku.sku_id, None)[Kind.BUFFER].value == 4
    assert StoreRules(store, NOW).for_sku(sku.sku_id, 2)[Kind.BUFFER].source == (
        "registration_safety"
    )
    rule(store, Kind.BUFFER, 0, starts=NOW - dt.timedelta(minutes=1))
    assert StoreRules(store, NOW).for_sku(sku.sku_id, 2)[Kind.BUFFER].value == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "buffer", "value": 3}, "needs a period"),
        ({"kind": "share", "value": 120}, "percentage from 0 to 100"),
        ({"kind": "cap", "value": 3, "starts_at": NOW, "ends_at": NOW}, "must end after"),
        ({"kind": "cap", "value": 3, "sku_id": "no-such-sku"}, "Unknown SKU"),
        ({"kind": "nonsense", "value": 3}, "nonsense"),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_is_written(values, message):
    store = StoreFactory()
    with pytest.raises(StoreInvalid, match=message):
        allocation_rule_save(actor=STAFF, store_id=store.store_id, **values)
    assert not AllocationRule.objects.exists()
    assert not AuditLog.objects.filter(action=AuditAction.ALLOCATION_RULE).exists()


@pytest.mark.django_db
def test_writing_a_rule_is_audited_and_pushes_what_it_covers():
    registration = StoreSkuFactory()
    other = StoreSkuFactory(store=registration.store)
    store = registration.store
    PendingPush.objects.all().delete()
    saved = allocation_rule_save(
        actor=STAFF, store_id=store.store_id, sku_id=registration.sku_id, kind="cap", value=5
    )
    assert list(PendingPush.objects.values_list("sku_id", flat=True)) == [registration.sku_id]
    PendingPush.objects.all().delete()
    allocation_rule_save(
        actor=STAFF, store_id=store.store_id, kind="share", value=50, rule_id=saved.pk
    )
    # Changed to the whole store: every SKU of the store is told again.
    assert set(PendingPush.objects.values_list("sku_id", flat=True)) == {
        registration.sku_id,
        other.sku_id,
    }
    allocation_rule_delete(actor=STAFF, rule_id=saved.pk)
    audits = list(
        AuditLog.objects.filter(action=AuditAction.ALLOCATION_RULE)
        .order_by("created_at")
        .values_list("details", flat=True)
    )
    assert [a["rule"] and a["rule"]["kind"] for a in audits] == ["cap", "share", None]
    assert audits[1]["before"]["sku_id"] == registration.sku_id
    with pytest.raises(StoreInvalid, match="Unknown allocation rule"):
        allocation_rule_delete(actor=STAFF, rule_id=saved.pk)


@pytest.mark.django_db
def test_a_period_starting_or_ending_makes_its_pushes_due_once():
    registration = StoreSkuFactory()
    store = registration.store
    starts, ends = NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=3)
    allocation_rule_save(
        actor=STAFF, store_id=store.store_id, kind="cap", value=1, starts_at=starts, ends_at=ends
    )
    PendingPush.objects.all().delete()
    assert allocation_edges_apply(NOW) == 0
    assert allocation_edges_apply(starts + dt.timedelta(seconds=30)) == 1
    assert PendingPush.objects.get().sku_id == registration.sku_id
    PendingPush.objects.all().delete()
    assert allocation_edges_apply(starts + dt.timedelta(minutes=1)) == 0  # once
    assert allocation_edges_apply(ends + dt.timedelta(seconds=5)) == 1
    assert PendingPush.objects.filter(sku_id=registration.sku_id).exists()
    assert allocation_edges_apply(ends + dt.timedelta(minutes=5)) == 0


@pytest.mark.django_db
def test_a_store_safety_change_pushes_every_sku_of_the_store():
    registration = StoreSkuFactory()
    PendingPush.objects.all().delete()
    store_update(store_id=registration.store_id, safety_stock=2, actor=STAFF)
    assert PendingPush.objects.get().sku_id == registration.sku_id


@pytest.mark.django_db
def test_rules_past_their_period_are_not_read():
    store = StoreFactory()
    rule(store, Kind.CAP, 1, ends=timezone.now() - dt.timedelta(days=1))
    assert StoreRules(store, timezone.now()).empty
