"""Reads for the SKU pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from events.models import InventoryEvent, PendingPush
from stores.models import StoreSku

from .models import Sku

LOW_STOCK = 5


def sku_search(
    *,
    q: str = "",
    environment: str = "",
    status: str = "",
    store_id: str = "",
    oversold: bool = False,
    low: bool = False,
) -> QuerySet[Sku]:
    skus = Sku.objects.select_related("snapshot").order_by("sku_id")
    if q:
        skus = skus.filter(Q(sku_id__icontains=q) | Q(sku_name__icontains=q))
    if environment:
        skus = skus.filter(environment=environment)
    if status:
        skus = skus.filter(status=status)
    if store_id:
        skus = skus.filter(registrations__store_id=store_id)
    if oversold:
        skus = skus.filter(Exists(InventoryEvent.objects.filter(sku=OuterRef("pk"), oversold=True)))
    if low:
        skus = skus.filter(snapshot__internal_available__lte=LOW_STOCK)
    return skus


@dataclass
class StoreView:
    """What a store should show for a SKU, and why."""

    registration: StoreSku
    available: int
    safety: int
    should_show: int
    pending: PendingPush | None


def sku_store_views(sku: Sku) -> list[StoreView]:
    from stores.allocation import store_quantity

    available = sku.snapshot.internal_available if hasattr(sku, "snapshot") else 0
    pending = {p.store_id: p for p in PendingPush.objects.filter(sku=sku)}
    views = []
    for registration in sku.registrations.select_related("store").order_by("store_id"):
        safety = registration.effective_safety_stock
        views.append(
            StoreView(
                registration=registration,
                available=available,
                safety=safety,
                should_show=store_quantity(available, safety),
                pending=pending.get(registration.store_id),
            )
        )
    return views
