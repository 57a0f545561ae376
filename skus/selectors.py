"""Reads for the SKU pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from events.models import InventoryEvent, InventorySnapshot, PendingPush
from stores.allocation import Allocation
from stores.models import StoreSku

from .models import Sku, SkuComponent, SkuSearchText, normalize_sku_id

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
        skus = skus.filter(_low_condition())
    return skus


def _low_condition() -> Q:
    """At or below the SKU's low-stock threshold (LOW_STOCK when it has none); a set by
    what its components allow (sets are few: computed here, then matched by id)."""
    limit = Coalesce(F("low_stock_threshold"), Value(LOW_STOCK))
    set_rows = dict(
        Sku.objects.filter(Exists(SkuComponent.objects.filter(set_id=OuterRef("pk"))))
        .annotate(limit=limit)
        .values_list("sku_id", "limit")
    )
    from .sets import availability

    stock = availability(set_rows)
    low_sets = [sku_id for sku_id, most in set_rows.items() if stock[sku_id] <= most]
    plain = Q(snapshot__internal_available__lte=limit) & ~Exists(
        SkuComponent.objects.filter(set_id=OuterRef("pk"))
    )
    return plain | Q(pk__in=low_sets)


@dataclass
class ComponentView:
    """One component of a set: how many the set takes and how many sets it allows."""

    sku_id: str
    display_id: str
    quantity: int
    available: int

    @property
    def allows(self) -> int:
        return self.available // self.quantity


@dataclass
class StoreView:
    """What a store should show for a SKU, and why: the pool, each rule applied, what was
    last pushed and what is still to go."""

    registration: StoreSku
    available: int
    allocation: Allocation
    pending: PendingPush | None

    @property
    def safety(self) -> int:
        return next((s.value for s in self.allocation.steps if s.kind == "buffer"), 0)

    @property
    def should_show(self) -> int:
        return self.allocation.quantity

    @property
    def in_step(self) -> bool:
        """The store was last told what it should show, and nothing is waiting to go."""
        return self.pending is None and self.registration.last_pushed_quantity == (self.should_show)


@dataclass
class Explanation:
    """Why each store shows what it shows for one SKU."""

    sku: Sku
    available: int
    components: list[ComponentView]
    stores: list[StoreView]
    events: list[InventoryEvent]
    used_in: list[tuple[str, int]]  # the sets this SKU is a component of (id, quantity)


EXPLAIN_EVENTS = 10


def sku_explain(sku: Sku, now: dt.datetime | None = None) -> Explanation:
    """The explanation the SKU page and the API show, in a fixed number of queries:
    the pool (a set's from its components), each store's rules applied in order with
    their effect (``stores.allocation.allocate``, the push's own function), the last
    push and the one pending or failed, and the last events that moved the stock."""
    from stores.allocation import PLATFORM_MAXIMUM, StoreRules, allocate
    from stores.models import AllocationRule

    from .sets import set_of

    now = now or timezone.now()
    parts = dict(
        SkuComponent.objects.filter(set_id=sku.sku_id).values_list("component_id", "quantity")
    )
    wanted = [sku.sku_id, *parts]
    stock = dict(
        InventorySnapshot.objects.filter(sku_id__in=wanted).values_list(
            "sku_id", "internal_available"
        )
    )
    available = set_of(parts, stock) if parts else stock.get(sku.sku_id, 0)
    names = dict(Sku.objects.filter(sku_id__in=list(parts)).values_list("sku_id", "original_sku"))
    components = [
        ComponentView(
            sku_id=component,
            display_id=names.get(component) or component,
            quantity=quantity,
            available=stock.get(component, 0),
        )
        for component, quantity in sorted(parts.items())
    ]
    registrations = list(sku.registrations.select_related("store").order_by("store_id"))
    store_ids = [r.store_id for r in registrations]
    rules: dict[str, list[AllocationRule]] = {store_id: [] for store_id in store_ids}
    for rule in (
        AllocationRule.objects.filter(store_id__in=store_ids)
        .filter(Q(sku__isnull=True) | Q(sku=sku))
        .exclude(ends_at__lte=now)
    ):
        rules[rule.store_id].append(rule)
    pending = {p.store_id: p for p in PendingPush.objects.filter(sku=sku, store_id__in=store_ids)}
    views = []
    for registration in registrations:
        store_rules = StoreRules(registration.store, now, rules=rules[registration.store_id])
        allocation = allocate(
            available,
            store_rules.for_sku(sku.sku_id, registration.safety_stock),
            PLATFORM_MAXIMUM.get(registration.store.platform_type),
        )
        views.append(
            StoreView(
                registration=registration,
                available=available,
                allocation=allocation,
                pending=pending.get(registration.store_id),
            )
        )
    events = list(
        InventoryEvent.objects.filter(sku_id__in=wanted)
        .exclude(quantity=0)
        .order_by("-created_at")[:EXPLAIN_EVENTS]
    )
    used_in = list(
        SkuComponent.objects.filter(component_id=sku.sku_id)
        .order_by("set_id")
        .values_list("set_id", "quantity")
    )
    return Explanation(
        sku=sku,
        available=available,
        components=components,
        stores=views,
        events=events,
        used_in=used_in,
    )


def low_stock() -> QuerySet[Sku]:
    """Active SKUs whose available stock (a set's: what its components allow) is at or
    below their low-stock threshold, scarcest first; each with ``available``."""
    from .sets import available_expression

    return (
        Sku.objects.filter(low_stock_threshold__isnull=False, status=Sku.Status.ACTIVE)
        .annotate(available=available_expression("sku_id"))
        .filter(available__lte=F("low_stock_threshold"))
        .order_by("available", "sku_id")
    )


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
