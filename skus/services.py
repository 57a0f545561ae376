"""Writes to the SKU master. Every rule lives here or in the model; views,
admin and commands only call these."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.models import AuditAction, EventSource, EventType, InventorySnapshot
from events.services import (
    MSG_UNKNOWN_SKU,
    audit_record,
    event_record,
    fields_assign,
    make_token,
)
from inventory_site.errors import InventoryError, validation_message
from skus.models import Sku

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
