"""Reads for the SKU pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from events.models import InventoryEvent, PendingPush
from stores.models import StoreSku

from .models import Sku, SkuSearchText, normalize_sku_id

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
    """SKUs by id order. ``q`` matches anywhere in the id or the name, case-insensitively:
    one condition on ``SkuSearchText`` (id and name as one text), which PostgreSQL answers
    from the trigram index of migration 0002."""
    skus = Sku.objects.select_related("snapshot").order_by("sku_id")
    if q:
        skus = skus.alias(search_text=SkuSearchText()).filter(search_text__icontains=q)
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


# The admin's searches over tables of millions of rows match a SKU id exactly or by its
# beginning (an index range), never anywhere inside it (a scan of every row).
PREFIX_SKUS_LIMIT = 200


def sku_search_key(term: str) -> str | None:
    """The internal form of a SKU id typed into a search box (lowercase, NFKC), or None
    when no SKU id could look like it."""
    try:
        return normalize_sku_id(term)
    except ValidationError:
        return None


def sku_ids_starting(term: str, *, limit: int = PREFIX_SKUS_LIMIT) -> list[str]:
    """The ids of the first ``limit`` SKUs (by id) that are ``term`` or start with it, read
    from the primary key's pattern index; for tables whose SKU column has no such index."""
    key = sku_search_key(term)
    if key is None:
        return []
    return list(
        Sku.objects.filter(sku_id__startswith=key)
        .order_by("sku_id")
        .values_list("sku_id", flat=True)[:limit]
    )


def registrations_of_skus_starting(term: str, *, limit: int = 1000) -> list[int]:
    """The ids of at most ``limit`` store registrations of SKUs that are ``term`` or start
    with it (the registrations' SKU pattern index), for the platforms' binding lists."""
    key = sku_search_key(term)
    if key is None:
        return []
    return list(
        StoreSku.objects.filter(sku__sku_id__startswith=key)
        .order_by("sku_id", "store_id")
        .values_list("id", flat=True)[:limit]
    )
