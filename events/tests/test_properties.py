"""Property: whatever the sequence of events, the snapshot is the sum of the
ledger and the outbox holds one row per registered store of a changed SKU."""

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from events.actors import Actor
from events.models import EventSource, EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.services import LedgerError, event_record
from skus.services import sku_create
from stores.services import store_create
from sync.registrations import store_sku_register

SKUS = ["Alpha-1", "beta-2", "GAMMA-3"]
# Which stores each SKU is registered in; GAMMA-3 in none.
REGISTRATIONS = {"alpha-1": ["s1", "s2", "s3"], "beta-2": ["s2"], "gamma-3": []}

event_steps = st.lists(
    st.tuples(
        st.sampled_from(SKUS),
        st.integers(min_value=-20, max_value=20),
        st.sampled_from(
            [
                EventType.ORDER_RECEIVED,
                EventType.ORDER_CANCELLED,
                EventType.MANUAL_ADJUSTMENT,
                EventType.IMPORT,
                EventType.ORDER_CONFIRMED,
            ]
        ),
        st.sampled_from([None, "tok-a", "tok-b", "tok-c"]),
    ),
    max_size=40,
)


class LedgerPropertyTests(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=event_steps, oversell=st.booleans())
    def test_snapshot_is_the_sum_and_outbox_has_one_row_per_store(self, steps, oversell):
        actor = Actor.system("hypothesis")
        for store_id in ("s1", "s2", "s3"):
            store_create(store_id=store_id, store_name=store_id, actor=actor)
        for raw in SKUS:
            sku = sku_create(sku_id=raw, sku_name=raw, allow_oversell=oversell, actor=actor)
            for store_id in REGISTRATIONS[sku.sku_id]:
                store_sku_register(store_id=store_id, sku_id=sku.sku_id, actor=actor)
        PendingPush.objects.all().delete()

        changed = set()
        for sku_id, quantity, event_type, token in steps:
            try:
                event = event_record(
                    sku_id=sku_id,
                    quantity=quantity,
                    event_type=event_type,
                    source=EventSource.SYSTEM,
                    operator="hypothesis",
                    token=token,
                )
            except LedgerError:
                continue  # refused (zero, oversell, token reuse): wrote nothing
            if not event.replayed and event.quantity:
                changed.add(event.sku_id)

        for raw in SKUS:
            key = raw.lower()
            ledger = (
                InventoryEvent.objects.filter(sku_id=key).aggregate(s=Sum("quantity"))["s"] or 0
            )
            assert InventorySnapshot.objects.get(pk=key).internal_available == ledger
            if not oversell:
                # Only an order may take stock below zero; it is then flagged.
                below = InventoryEvent.objects.filter(
                    sku_id=key, quantity__lt=0, balance_after__lt=0
                )
                assert not below.exclude(event_type__startswith="ORDER_").exists()
                assert not below.filter(oversold=False).exists()
        expected = sorted(
            (store_id, sku_id) for sku_id in changed for store_id in REGISTRATIONS[sku_id]
        )
        assert sorted(PendingPush.objects.values_list("store_id", "sku_id")) == expected
