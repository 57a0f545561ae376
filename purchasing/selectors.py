"""Reads over purchases (the admin now; the API and pages later)."""

from django.db.models import Count, Prefetch, QuerySet

from purchasing.models import InventoryItem, Purchasing


def purchase_list(*, include_deleted: bool = False) -> QuerySet[Purchasing]:
    """Purchases newest first with their official account, ``inventory_count`` and
    items; soft-deleted ones only when asked for."""
    purchases = Purchasing.objects.all() if include_deleted else Purchasing.objects.visible()
    return (
        purchases.select_related("official_account")
        .annotate(inventory_count=Count("purchasing_inventories"))
        .prefetch_related(
            Prefetch(
                "purchasing_inventories",
                queryset=InventoryItem.objects.select_related("sku").order_by("created_at", "pk"),
            )
        )
        .order_by("-created_at", "-pk")
    )


def purchase_items(*, purchase_id: int) -> QuerySet[InventoryItem]:
    """The items of one purchase, oldest first, with their SKU."""
    return (
        InventoryItem.objects.filter(purchase_id=purchase_id)
        .select_related("sku")
        .order_by("created_at", "pk")
    )
