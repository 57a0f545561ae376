"""Reads and reports over the ledger."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from events.models import InventoryEvent
from skus.models import Sku


@dataclass(frozen=True)
class Drift:
    """A SKU whose snapshot differs from the sum of its events (``snapshot``
    is None when the SKU has no snapshot row at all)."""

    sku_id: str
    snapshot: int | None
    ledger: int

    @property
    def difference(self) -> int:
        return self.ledger - (self.snapshot or 0)


def snapshot_drift(*, sku_ids: Iterable[str] | None = None) -> list[Drift]:
    """Every SKU whose snapshot is missing or is not the sum of its events."""
    ledger_sum = (
        InventoryEvent.objects.filter(sku_id=OuterRef("pk"))
        .order_by()
        .values("sku_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    skus = Sku.objects.all()
    if sku_ids is not None:
        skus = skus.filter(pk__in=list(sku_ids))
    rows = (
        skus.annotate(
            ledger=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), Value(0)),
        )
        .values_list("sku_id", "snapshot__internal_available", "ledger")
        .order_by("sku_id")
    )
    return [
        Drift(sku_id=sku_id, snapshot=snapshot, ledger=ledger)
        for sku_id, snapshot, ledger in rows.iterator(chunk_size=5000)
        if snapshot is None or snapshot != ledger
    ]


def oversold_events() -> QuerySet[InventoryEvent]:
    """Order events that took a SKU not allowing oversell below zero."""
    return (
        InventoryEvent.objects.filter(oversold=True)
        .select_related("sku", "store")
        .order_by("-created_at")
    )


def sku_events(*, sku_id: str) -> QuerySet[InventoryEvent]:
    """A SKU's timeline, newest first."""
    return (
        InventoryEvent.objects.filter(sku_id=sku_id).select_related("store").order_by("-created_at")
    )
