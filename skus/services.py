"""Writes to the SKU master. Every rule lives here or in the model; views,
admin and commands only call these."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.ledger import ensure_snapshot
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
from skus.models import TEST_SKU_ID, Sku

MSG_SKU_EXISTS = _("The SKU “%(sku_id)s” already exists.")
MSG_SKU_FIELD_NOT_EDITABLE = _("These SKU fields cannot be changed here: %(fields)s.")

SKU_EDITABLE_FIELDS = frozenset(
    {"sku_name", "allow_oversell", "environment", "status", "metadata", "aliases", "original_sku"}
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
        test_skus = Sku.objects.filter(environment=Sku.Environment.TEST).values_list(
            "sku_id", flat=True
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
