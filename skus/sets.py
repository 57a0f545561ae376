"""Set (bundle) SKUs: what a set can sell is what its components allow.

A set has no stock of its own in the ledger: its available stock is
min(component available // quantity per set), computed where it is read (in
Python here, in SQL by ``available_expression`` for lists and the push)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import Case, Expression, F, Min, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from events.models import InventorySnapshot

from .models import SkuComponent


def set_available(components: Iterable[tuple[int, int]]) -> int:
    """The units a set can sell from (available, quantity per set) of each component
    (rounded down; a component below zero makes the set negative too, so an oversold
    component shows as one)."""
    values = [available // quantity for available, quantity in components]
    return min(values) if values else 0


def compositions(set_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """{set id: {component id: quantity per set}} of those of ``set_ids`` that are sets
    (one query)."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    ids = list(set(set_ids))
    for start in range(0, len(ids), 1000):
        rows = SkuComponent.objects.filter(set_id__in=ids[start : start + 1000]).values_list(
            "set_id", "component_id", "quantity"
        )
        for set_id, component_id, quantity in rows:
            found[set_id][component_id] = quantity
    return dict(found)


def availability(sku_ids: Iterable[str]) -> dict[str, int]:
    """Each SKU's available stock, a set's from its components (two queries)."""
    ids = list(set(sku_ids))
    sets = compositions(ids)
    wanted = set(ids) | {c for parts in sets.values() for c in parts}
    own: dict[str, int] = {}
    wanted_list = list(wanted)
    for start in range(0, len(wanted_list), 1000):
        own.update(
            InventorySnapshot.objects.filter(
                sku_id__in=wanted_list[start : start + 1000]
            ).values_list("sku_id", "internal_available")
        )
    return {
        sku_id: set_of(sets[sku_id], own) if sku_id in sets else own.get(sku_id, 0)
        for sku_id in ids
    }


def set_of(parts: Mapping[str, int], own: Mapping[str, int]) -> int:
    return set_available((own.get(component, 0), quantity) for component, quantity in parts.items())


def _floor_division(available: Expression, quantity: Expression) -> Expression:
    """available // quantity rounded down on every database (integer division there
    truncates toward zero, which differs for a negative stock)."""
    return Case(
        When(**{"avail__gte": 0}, then=available / quantity),
        default=-((quantity - 1 - available) / quantity),
    )


def available_expression(sku_ref: str = "sku_id") -> Expression:
    """A query expression of the available stock of the SKU whose id the outer query's
    ``sku_ref`` holds: its snapshot, or for a set what its components allow."""
    components = (
        SkuComponent.objects.filter(set_id=OuterRef(sku_ref))
        .annotate(avail=Coalesce(F("component__snapshot__internal_available"), Value(0)))
        .values("set_id")
        .annotate(units=Min(_floor_division(F("avail"), F("quantity"))))
        .values("units")
    )
    own = InventorySnapshot.objects.filter(sku_id=OuterRef(sku_ref)).values("internal_available")
    return Coalesce(Subquery(components), Subquery(own), Value(0))
