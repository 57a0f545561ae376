"""What a store is told of a SKU's stock: the one function every page, report, API
answer and push shares (``allocate``), and the rules it applies.

From the pool's available stock (for a set: what its components allow), in this
order:

1. **show 0 below N** – when available is below N the store is told 0 (the last
   units are kept for the other stores, or for none);
2. **share** – p % of available, rounded down;
3. **buffer** – units held back (the safety stock; a buffer rule in a window
   replaces it for that time);
4. **maximum shown** – at most N;
5. **platform limit** – at most what the store's platform accepts;
6. never below 0.

Each kind has one rule in force for a store × SKU, the first of: a rule of the SKU
with a window in force, a rule of the whole store with a window in force, a
standing rule of the SKU, a standing rule of the store (for the buffer: the
registration's safety stock, then the store's). So a sale-day rule for the store
overrides the everyday ones, and a SKU's own rule overrides the store's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from stores.models import AllocationRule, Store

Kind = AllocationRule.Kind

# Each platform's largest quantity, registered by the engine when it starts (it knows the
# adapters; this module does not), so pages compute exactly what a push sends.
PLATFORM_MAXIMUM: dict[str, int] = {}


def platform_maximum_register(platform: str, maximum: int) -> None:
    PLATFORM_MAXIMUM[platform] = maximum


# The order the kinds apply in.
ORDER = (Kind.ZERO_BELOW, Kind.SHARE, Kind.BUFFER, Kind.CAP)

SOURCE_SKU_WINDOW = "sku_window"
SOURCE_STORE_WINDOW = "store_window"
SOURCE_SKU = "sku"
SOURCE_STORE = "store"
SOURCE_LABELS = {
    SOURCE_SKU_WINDOW: _("this SKU's rule for a period"),
    SOURCE_STORE_WINDOW: _("the store's rule for a period"),
    SOURCE_SKU: _("this SKU's rule"),
    SOURCE_STORE: _("the store's rule"),
    "registration_safety": _("this SKU's safety stock in the store"),
    "store_safety": _("the store's safety stock"),
    "platform": _("the platform's limit"),
    "floor": _("never below 0"),
}
STEP_LABELS = {
    Kind.ZERO_BELOW: _("show 0 below %(value)s"),
    Kind.SHARE: _("share %(value)s %%"),
    Kind.BUFFER: _("hold back %(value)s"),
    Kind.CAP: _("at most %(value)s"),
    "platform": _("platform accepts at most %(value)s"),
    "floor": _("not below 0"),
}


@dataclass(frozen=True)
class Chosen:
    """The rule of one kind in force: its value, where it comes from, the rule row."""

    kind: str
    value: int
    source: str
    rule_id: int | None = None
    ends_at: dt.datetime | None = None


@dataclass(frozen=True)
class Step:
    """One rule applied: the quantity before and after it."""

    kind: str
    value: int
    before: int
    after: int
    source: str
    rule_id: int | None = None
    ends_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self.kind] % {"value": self.value})

    @property
    def source_label(self) -> str:
        return str(SOURCE_LABELS[self.source])

    @property
    def effect(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Allocation:
    """What a store is told (``quantity``) and how: the pool's available stock and each
    rule applied in order."""

    available: int
    quantity: int
    steps: tuple[Step, ...] = field(default_factory=tuple)


def allocate(
    available: int, rules: Mapping[str, Chosen] | None = None, maximum: int | None = None
) -> Allocation:
    """What a store is told of ``available`` under ``rules`` (one per kind, see
    ``StoreRules.for_sku``) and its platform's ``maximum``: never negative, never more
    than available, never above a maximum shown."""
    rules = rules or {}
    quantity = available
    steps: list[Step] = []

    def step(kind: str, value: int, after: int, chosen: Chosen | None, source: str = "") -> None:
        nonlocal quantity
        steps.append(
            Step(
                kind=kind,
                value=value,
                before=quantity,
                after=after,
                source=chosen.source if chosen else source,
                rule_id=chosen.rule_id if chosen else None,
                ends_at=chosen.ends_at if chosen else None,
            )
        )
        quantity = after

    for kind in ORDER:
        chosen = rules.get(kind)
        if chosen is None:
            continue
        if kind == Kind.ZERO_BELOW:
            step(kind, chosen.value, 0 if available < chosen.value else quantity, chosen)
        elif kind == Kind.SHARE:
            step(kind, chosen.value, quantity * chosen.value // 100, chosen)
        elif kind == Kind.BUFFER:
            step(kind, chosen.value, quantity - chosen.value, chosen)
        else:
            step(kind, chosen.value, min(quantity, chosen.value), chosen)
    if maximum is not None and quantity > maximum:
        step("platform", maximum, maximum, None, "platform")
    if quantity < 0:
        step("floor", 0, 0, None, "floor")
    return Allocation(available=available, quantity=quantity, steps=tuple(steps))


def store_quantity(available: int, safety: int, maximum: int | None = None) -> int:
    """Available less a safety stock, 0 … ``maximum`` (no other rule): ``allocate``
    with only a buffer."""
    rules = {Kind.BUFFER: Chosen(Kind.BUFFER, safety, "store_safety")} if safety else {}
    return allocate(available, rules, maximum).quantity


class StoreRules:
    """The allocation rules of one store that can be in force at ``now``, read once (one
    query), to choose each SKU's rules without another query."""

    def __init__(
        self, store: Store, now: dt.datetime, rules: Iterable[AllocationRule] | None = None
    ) -> None:
        self.store = store
        self.now = now
        if rules is None:
            rules = AllocationRule.objects.filter(store=store).exclude(ends_at__lte=now)
        self.by_sku: dict[str | None, list[AllocationRule]] = defaultdict(list)
        for rule in rules:
            if rule.in_force(now):
                self.by_sku[rule.sku_id].append(rule)

    @property
    def empty(self) -> bool:
        return not self.by_sku

    def for_sku(self, sku_id: str, safety: int | None) -> dict[str, Chosen]:
        """The rule of each kind in force for ``sku_id``; ``safety`` is the registration's
        own safety stock (None: the store's)."""
        chosen: dict[str, Chosen] = {}
        own, store_wide = self.by_sku.get(sku_id, ()), self.by_sku.get(None, ())
        tiers = (
            (own, True, SOURCE_SKU_WINDOW),
            (store_wide, True, SOURCE_STORE_WINDOW),
            (own, False, SOURCE_SKU),
            (store_wide, False, SOURCE_STORE),
        )
        for rules, windowed, source in tiers:
            # Within a tier the latest rule wins (ties cannot be told apart otherwise).
            for rule in sorted(rules, key=lambda r: (r.created_at, r.pk or 0), reverse=True):
                if rule.windowed == windowed and rule.kind not in chosen:
                    chosen[rule.kind] = Chosen(
                        rule.kind, rule.value, source, rule.pk, rule.ends_at if windowed else None
                    )
        if Kind.BUFFER not in chosen:
            if safety is not None:
                chosen[Kind.BUFFER] = Chosen(Kind.BUFFER, safety, "registration_safety")
            elif self.store.safety_stock:
                chosen[Kind.BUFFER] = Chosen(Kind.BUFFER, self.store.safety_stock, "store_safety")
        return chosen
