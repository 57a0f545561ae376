"""Writes to the SKU master. Every rule lives here or in the model; views,
admin and commands only call these."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.ledger import ensure_snapshot, outbox_mark
from events.models import AuditAction, EventSource, EventType, InventoryEvent, InventorySnapshot
from events.services import (
    MSG_QUANTITY_OUT_OF_RANGE,
    MSG_UNKNOWN_SKU,
    QUANTITY_LIMIT,
    InvalidQuantity,
    audit_record,
    event_record,
    fields_assign,
    make_token,
    parse_quantity,
    stock_set,
)
from inventory_site.errors import InventoryError, validation_message
from skus.models import (
    SET_COMPONENT_QUANTITY_MAX,
    TEST_SKU_ID,
    Sku,
    SkuComponent,
    normalize_sku_id,
)

MSG_SKU_EXISTS = _("The SKU “%(sku_id)s” already exists.")
MSG_SKU_FIELD_NOT_EDITABLE = _("These SKU fields cannot be changed here: %(fields)s.")

SKU_EDITABLE_FIELDS = frozenset(
    {
        "sku_name",
        "allow_oversell",
        "environment",
        "status",
        "metadata",
        "aliases",
        "original_sku",
        "low_stock_threshold",
    }
)


class SkuInvalid(InventoryError):
    """The SKU data breaks a rule; nothing was written."""


def _full_clean(sku: Sku, *, exclude: list[str] | None = None) -> None:
    try:
        sku.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise SkuInvalid(validation_message(exc, Sku)) from exc


def sku_create(
    *,
    sku_id: str,
    sku_name: str,
    actor: Actor,
    environment: str = Sku.Environment.PROD,
    allow_oversell: bool = False,
    metadata: dict[str, Any] | None = None,
    aliases: dict[str, Any] | None = None,
    initial_stock: int | None = None,
    low_stock_threshold: int | None = None,
) -> Sku:
    """Create a SKU with its (zero) snapshot, and its INITIAL stock event when
    ``initial_stock`` is given; the id is lowercased, its case kept in
    ``original_sku``. Audited when a person does it."""
    sku = Sku(
        sku_id=sku_id,
        sku_name=(sku_name or "").strip(),
        environment=environment,
        allow_oversell=allow_oversell,
        metadata=metadata or {},
        aliases=aliases or {},
        low_stock_threshold=low_stock_threshold,
    )
    try:
        sku.normalize()
    except ValidationError as exc:
        raise SkuInvalid(validation_message(exc)) from exc
    _full_clean(sku)
    with transaction.atomic():
        if Sku.objects.filter(pk=sku.sku_id).exists():
            raise SkuInvalid(str(MSG_SKU_EXISTS), sku_id=sku.sku_id)
        sku.save(force_insert=True)
        InventorySnapshot.objects.create(sku=sku, internal_available=0)
        if initial_stock:
            event_record(
                sku_id=sku.sku_id,
                quantity=initial_stock,
                event_type=EventType.INITIAL,
                source=EventSource.SYSTEM if actor.is_system else EventSource.MANUAL,
                operator=actor.username,
                token=make_token("initial", sku.sku_id),
                reason="initial stock",
            )
        if not actor.is_system:
            audit_record(
                actor=actor,
                action=AuditAction.SKU_CREATE,
                details={
                    "sku_id": sku.sku_id,
                    "original_sku": sku.original_sku,
                    "sku_name": sku.sku_name,
                    "environment": sku.environment,
                    "initial_stock": initial_stock or 0,
                },
            )
    return sku


def sku_update(*, sku_id: str, actor: Actor, **changes: Any) -> Sku:
    """Change a SKU's editable fields; audited with the before and after of
    each field that changed. ce1111 cannot leave active/test (the model and
    the database refuse), and no SKU is ever deleted: inactivate instead."""
    refused = sorted(set(changes) - SKU_EDITABLE_FIELDS)
    if refused:
        raise SkuInvalid(str(MSG_SKU_FIELD_NOT_EDITABLE), fields=", ".join(refused))
    with transaction.atomic():
        sku = Sku.objects.select_for_update().filter(pk=sku_id).first()
        if sku is None:
            raise SkuInvalid(str(MSG_UNKNOWN_SKU), sku_id=str(sku_id))
        diff = fields_assign(sku, changes)
        if not diff:
            return sku
        _full_clean(sku)
        sku.save(update_fields=[*diff, "updated_at"])
        if not actor.is_system:
            audit_record(
                actor=actor,
                action=AuditAction.SKU_UPDATE,
                details={"sku_id": sku.sku_id, "changes": diff},
            )
    return sku


# --- sets (bundles) ---------------------------------------------------------------

SET_COMPONENTS_MAX = 50
MSG_SET_ITSELF = _("A set cannot be a component of itself (“%(sku_id)s”).")
MSG_SET_OF_SETS = _(
    "“%(sku_id)s” is a set itself: sets of sets are not supported; list its components instead."
)
MSG_SET_IS_COMPONENT = _(
    "“%(sku_id)s” is a component of the set “%(used_in)s”: sets of sets are not supported."
)
MSG_SET_HAS_EVENTS = _(
    "“%(sku_id)s” has stock events of its own, and a set has no stock of its own: create "
    "the set as a new SKU."
)
MSG_SET_QUANTITY = _(
    "The quantity of “%(sku_id)s” in the set must be a whole number from 1 to %(limit)d."
)
MSG_SET_TOO_MANY = _("A set has at most %(limit)d components.")


def _set_quantity(component: str, raw: object) -> int:
    try:
        quantity = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        quantity = 0
    if isinstance(raw, bool) or not 1 <= quantity <= SET_COMPONENT_QUANTITY_MAX:
        raise SkuInvalid(str(MSG_SET_QUANTITY), sku_id=component, limit=SET_COMPONENT_QUANTITY_MAX)
    return quantity


def set_parts(set_id: str, components: Iterable[tuple[str, object]]) -> dict[str, int]:
    """The components of a set as {component id: quantity}, a component listed twice
    counted twice; refuses, with a message naming the SKU, an invalid id, a bad quantity,
    too many components and the set itself. Reads nothing (an import checks a file whose
    components it may create itself)."""
    parts: dict[str, int] = {}
    for raw_id, raw_quantity in components:
        try:
            component = normalize_sku_id(raw_id)
        except ValidationError as exc:
            raise SkuInvalid(validation_message(exc)) from exc
        parts[component] = parts.get(component, 0) + _set_quantity(component, raw_quantity)
        if parts[component] > SET_COMPONENT_QUANTITY_MAX:
            raise SkuInvalid(
                str(MSG_SET_QUANTITY), sku_id=component, limit=SET_COMPONENT_QUANTITY_MAX
            )
    if len(parts) > SET_COMPONENTS_MAX:
        raise SkuInvalid(str(MSG_SET_TOO_MANY), limit=SET_COMPONENTS_MAX)
    if set_id in parts:
        raise SkuInvalid(str(MSG_SET_ITSELF), sku_id=set_id)
    return parts


def set_components_check(set_id: str, components: list[tuple[str, object]]) -> dict[str, int]:
    """``set_parts``, then what the database knows: an unknown component, a set as a
    component, the set being another set's component, and a SKU with stock events of its
    own becoming a set. Reads, never writes: ``set_define`` and the admin's form call it."""
    parts = set_parts(set_id, components)
    known = set(Sku.objects.filter(pk__in=list(parts)).values_list("sku_id", flat=True))
    for component in parts:
        if component not in known:
            raise SkuInvalid(str(MSG_UNKNOWN_SKU), sku_id=component)
    nested = (
        SkuComponent.objects.filter(set_id__in=list(parts))
        .order_by("set_id")
        .values_list("set_id", flat=True)
    )
    for component in nested[:1]:
        raise SkuInvalid(str(MSG_SET_OF_SETS), sku_id=component)
    if parts:
        used_in = SkuComponent.objects.filter(component_id=set_id).order_by("set_id").first()
        if used_in is not None:
            raise SkuInvalid(str(MSG_SET_IS_COMPONENT), sku_id=set_id, used_in=used_in.set_id)
        if (
            not SkuComponent.objects.filter(set_id=set_id).exists()
            and InventoryEvent.objects.filter(sku_id=set_id).exists()
        ):
            raise SkuInvalid(str(MSG_SET_HAS_EVENTS), sku_id=set_id)
    return parts


def set_define(
    *, sku_id: str, components: list[tuple[str, object]], actor: Actor
) -> dict[str, int]:
    """Make ``sku_id`` a set of ``components`` [(component id, quantity per set)], or,
    with none, no longer a set; audited, and every store the set is registered in is
    made due. A SKU with stock events of its own cannot become a set. Returns the
    components as stored."""
    key = normalize_sku_id(sku_id)
    with transaction.atomic():
        # The set's row lock orders concurrent definitions touching it.
        sku = Sku.objects.select_for_update().filter(pk=key).first()
        if sku is None:
            raise SkuInvalid(str(MSG_UNKNOWN_SKU), sku_id=key)
        parts = set_components_check(key, components)
        before = dict(
            SkuComponent.objects.filter(set_id=key).values_list("component_id", "quantity")
        )
        if parts == before:
            return parts
        SkuComponent.objects.filter(set_id=key).exclude(component_id__in=list(parts)).delete()
        for component, quantity in parts.items():
            SkuComponent.objects.update_or_create(
                set_id=key, component_id=component, defaults={"quantity": quantity}
            )
        ensure_snapshot(key)
        outbox_mark(sku_id=key)
        if not actor.is_system:
            audit_record(
                actor=actor,
                action=AuditAction.SET_DEFINE,
                details={"sku_id": key, "components": parts, "before": before},
            )
    return parts


# --- the test environment (ce1111) -----------------------------------------------


def env_test_sku_ensure() -> Sku:
    """The test product ce1111 exists, active, in environment ``test``, with a
    snapshot. Idempotent; run after every migrate."""
    # The database refuses ce1111 in any other state, so existing is enough.
    sku = Sku.objects.filter(pk=TEST_SKU_ID).first()
    if sku is None:
        sku = sku_create(
            sku_id="CE1111",
            sku_name="Test product ce1111",
            environment=Sku.Environment.TEST,
            actor=Actor.system("migrate"),
        )
    ensure_snapshot(TEST_SKU_ID)
    return sku


def env_test_reset(*, actor: Actor, stock: int | None = None) -> list[InventoryEvent]:
    """Put the test environment back in a known state, audited: ce1111 exists
    and holds ``stock`` (INVENTORY_TEST_RESET_STOCK by default), every other
    SKU of environment ``test`` holds 0. Each change is a TEST_RESET event; no
    SKU of environment ``prod`` is read or written."""
    target = settings.INVENTORY_TEST_RESET_STOCK if stock is None else stock
    target = parse_quantity(target, allow_zero=True)
    if target < 0:
        raise InvalidQuantity(str(MSG_QUANTITY_OUT_OF_RANGE), value=target, limit=QUANTITY_LIMIT)
    with transaction.atomic(durable=True):
        env_test_sku_ensure()
        events = []
        # A set has no stock of its own to reset.
        test_skus = (
            Sku.objects.filter(environment=Sku.Environment.TEST)
            .exclude(components__isnull=False)
            .values_list("sku_id", flat=True)
        )
        for sku_id in test_skus.order_by("sku_id"):
            wanted = target if sku_id == TEST_SKU_ID else 0
            event = stock_set(
                sku_id=sku_id,
                target=wanted,
                event_type=EventType.TEST_RESET,
                source=EventSource.SYSTEM,
                operator=actor.username,
                reason="test reset",
                record_zero=sku_id == TEST_SKU_ID,
            )
            if event is not None:
                events.append(event)
        audit_record(
            actor=actor,
            action=AuditAction.TEST_RESET,
            details={
                "ce1111_stock": target,
                "skus_reset": [e.sku_id for e in events][:500],
                "events": len(events),
            },
        )
    return events
