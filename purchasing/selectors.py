"""Reads over purchases (the admin now; the API and pages later)."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from purchasing.models import InventoryItem, Purchasing


def purchase_list(*, include_deleted: bool = False) -> QuerySet[Purchasing]:
    """Purchases newest first with their official account and items (prefetched for
    the rows read); soft-deleted ones only when asked for."""
    purchases = Purchasing.objects.all() if include_deleted else Purchasing.objects.visible()
    return (
        purchases.select_related("official_account")
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


def with_item_count(purchases: QuerySet[Purchasing]) -> QuerySet[Purchasing]:
    """``inventory_count`` in SQL, for ordering by it. Otherwise a page counts its
    prefetched items: a count per row in SQL is computed for every row a deep page skips
    (and a join with every item sorted the whole table: bench_purchasing)."""
    return purchases.annotate(inventory_count=item_count())


def item_count() -> Coalesce:
    """The number of a purchase's items, as a correlated subquery (sortable, and a page
    reads only its own purchases' items)."""
    counted = (
        InventoryItem.objects.filter(purchase_id=OuterRef("pk"))
        .order_by()
        .values("purchase_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
