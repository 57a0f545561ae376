"""Reads and reports over the ledger."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from events.models import AuditLog, EventType, InventoryEvent, LedgerCheck
from skus.models import Sku
from skus.selectors import sku_ids_starting, sku_search_key


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
    return snapshot_drift_scan(sku_ids=sku_ids)[1]


def snapshot_drift_scan(*, sku_ids: Iterable[str] | None = None) -> tuple[int, list[Drift]]:
    """``snapshot_drift`` with the number of SKUs it compared (one statement, so both
    come from the same moment of the database). Sums the whole ledger: for commands,
    tasks and tests, never for a page (pages show the last stored check)."""
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
    checked = 0
    drifts = []
    for sku_id, snapshot, ledger in rows.iterator(chunk_size=5000):
        checked += 1
        if snapshot is None or snapshot != ledger:
            drifts.append(Drift(sku_id=sku_id, snapshot=snapshot, ledger=ledger))
    return checked, drifts


def ledger_checks_recent(*, limit: int = 10) -> list[LedgerCheck]:
    """The newest stored ledger checks, newest first (an index scan)."""
    return list(LedgerCheck.objects.order_by("-started_at", "-id")[:limit])


OVERSOLD_OPEN = "open"
OVERSOLD_RESOLVED = "resolved"


def oversold_events(
    *, store_id: str | None = None, state: str | None = None
) -> QuerySet[InventoryEvent]:
    """Order events that took a SKU not allowing oversell below zero, newest first, each
    with ``resolved``: its order was cancelled since (an ORDER_CANCELLED of the same store,
    order and SKU gave the units back; read from the (store, order) index). ``state``
    keeps only the open or the resolved ones."""
    cancelled = InventoryEvent.objects.filter(
        store_id=OuterRef("store_id"),
        order_id=OuterRef("order_id"),
        sku_id=OuterRef("sku_id"),
        event_type=EventType.ORDER_CANCELLED,
        created_at__gte=OuterRef("created_at"),
    )
    events = (
        InventoryEvent.objects.filter(oversold=True)
        .annotate(resolved=Exists(cancelled))
        .select_related("sku", "store")
        .order_by("-created_at")
    )
    if store_id:
        events = events.filter(store_id=store_id)
    if state == OVERSOLD_OPEN:
        events = events.filter(resolved=False)
    elif state == OVERSOLD_RESOLVED:
        events = events.filter(resolved=True)
    return events


def sku_events(*, sku_id: str) -> QuerySet[InventoryEvent]:
    """A SKU's timeline, newest first."""
    return (
        InventoryEvent.objects.filter(sku_id=sku_id).select_related("store").order_by("-created_at")
    )


# "operator:aiko" in the admin's search of the ledger: one person's (or process's) events.
OPERATOR_SEARCH = "operator:"


def event_search(queryset: QuerySet[InventoryEvent], term: str) -> QuerySet[InventoryEvent]:
    """Events matching a search term, each part read from an index (never a substring
    scan of the ledger): the SKU id, exactly or by its beginning (the first
    ``PREFIX_SKUS_LIMIT`` such SKUs); the order id, exactly or by its beginning; the
    idempotency token, exactly. ``operator:NAME`` instead finds the events of operator
    NAME (newest first from the (operator, time) index), or of operators whose name
    starts with NAME when nobody is called exactly that.

    The operator is not part of the plain search: one operator ("system") holds most of
    the ledger, and a condition that broad, OR-ed with the others, leaves the database
    no good plan."""
    term = term.strip()
    if not term:
        return queryset
    if term.lower().startswith(OPERATOR_SEARCH):
        name = term[len(OPERATOR_SEARCH) :].strip()
        if InventoryEvent.objects.filter(operator=name).exists():
            return queryset.filter(operator=name)
        return queryset.filter(operator__startswith=name) if name else queryset.none()
    condition = Q(token=term) | Q(order_id__startswith=term)
    if sku_ids := sku_ids_starting(term):
        condition |= Q(sku_id__in=sku_ids)
    return queryset.filter(condition)


def audit_search(queryset: QuerySet[AuditLog], term: str) -> QuerySet[AuditLog]:
    """Audit entries whose user or action code is the term or starts with it (indexed)."""
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(Q(user__startswith=term) | Q(action__startswith=term))


def sku_prefix_search(queryset: QuerySet, term: str, *, field: str = "sku__sku_id") -> QuerySet:
    """Rows whose SKU (column ``field``, with Django's pattern index of a foreign key) is
    the term or starts with it; every row for a blank term."""
    if not term.strip():
        return queryset
    key = sku_search_key(term)
    if key is None:
        return queryset.none()
    return queryset.filter(**{f"{field}__startswith": key})
