"""Writes to stores, their credentials and their SKU registrations."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.ledger import outbox_mark, outbox_mark_store
from events.models import AuditAction
from events.services import audit_record, fields_assign
from inventory_site.errors import InventoryError, validation_message
from skus.models import Sku, normalize_sku_id
from stores.crypto import encrypt_credentials, rotate_secret
from stores.models import AllocationRule, Store

MSG_STORE_EXISTS = _("The store “%(store_id)s” already exists.")
MSG_STORE_UNKNOWN = _("Unknown store “%(store_id)s”.")
MSG_SECRET_IN_API_CONFIG = _(
    "API settings must not hold credentials (%(keys)s): use the credential fields, "
    "which are encrypted."
)
MSG_STORE_FIELD_NOT_EDITABLE = _("These store fields cannot be changed here: %(fields)s.")

STORE_EDITABLE_FIELDS = frozenset(
    {"store_name", "api_config", "status", "safety_stock", "reconcile_repairs"}
)
_SECRET_KEY_HINTS = ("secret", "license", "licence", "password", "token", "authorization")


class StoreInvalid(InventoryError):
    """The store data breaks a rule; nothing was written."""


def _check_api_config(api_config: Any) -> dict[str, Any]:
    if api_config is None:
        return {}
    if not isinstance(api_config, dict):
        raise StoreInvalid(str(_("API settings must be a JSON object.")))
    leaking = sorted(
        key for key in api_config if any(hint in str(key).lower() for hint in _SECRET_KEY_HINTS)
    )
    if leaking:
        raise StoreInvalid(str(MSG_SECRET_IN_API_CONFIG), keys=", ".join(leaking))
    return api_config


def _full_clean(instance: Store) -> None:
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise StoreInvalid(validation_message(exc, type(instance))) from exc


def store_create(
    *,
    store_id: str,
    store_name: str,
    actor: Actor,
    platform_type: str = Store.Platform.RAKUTEN,
    status: str = Store.Status.ACTIVE,
    api_config: dict[str, Any] | None = None,
    safety_stock: int = 0,
    credentials: Mapping[str, str] | None = None,
) -> Store:
    """Create a store; its credentials are encrypted before they are saved and
    the audit entry says only that they were set."""
    store = Store(
        store_id=(store_id or "").strip(),
        store_name=(store_name or "").strip(),
        platform_type=platform_type,
        status=status,
        api_config=_check_api_config(api_config),
        safety_stock=safety_stock,
        credentials_encrypted=encrypt_credentials(_clean_credentials(credentials)),
    )
    _full_clean(store)
    with transaction.atomic():
        if Store.objects.filter(pk=store.store_id).exists():
            raise StoreInvalid(str(MSG_STORE_EXISTS), store_id=store.store_id)
        store.save(force_insert=True)
        audit_record(
            actor=actor,
            action=AuditAction.STORE_CREATE,
            details={
                "store_id": store.store_id,
                "store_name": store.store_name,
                "platform_type": store.platform_type,
                "status": store.status,
                "api_config": store.api_config,
                "credentials_set": store.has_credentials,
            },
        )
    return store


def _locked_store(store_id: str) -> Store:
    store = Store.objects.select_for_update().filter(pk=store_id).first()
    if store is None:
        raise StoreInvalid(str(MSG_STORE_UNKNOWN), store_id=store_id)
    return store


def store_update(*, store_id: str, actor: Actor, **changes: Any) -> Store:
    """Change a store's non-secret fields; audited with before and after."""
    refused = sorted(set(changes) - STORE_EDITABLE_FIELDS)
    if refused:
        raise StoreInvalid(str(MSG_STORE_FIELD_NOT_EDITABLE), fields=", ".join(refused))
    if "api_config" in changes:
        changes["api_config"] = _check_api_config(changes["api_config"])
    with transaction.atomic():
        store = _locked_store(store_id)
        diff = fields_assign(store, changes)
        if not diff:
            return store
        _full_clean(store)
        store.save(update_fields=list(diff))
        if "safety_stock" in diff or "status" in diff:
            outbox_mark_store(store_id=store.store_id)  # what every SKU shows may change
        audit_record(
            actor=actor,
            action=AuditAction.STORE_UPDATE,
            details={"store_id": store.store_id, "changes": diff},
        )
    return store


def _clean_credentials(credentials: Mapping[str, str] | None) -> dict[str, str]:
    return {
        str(name): str(value).strip()
        for name, value in (credentials or {}).items()
        if value is not None and str(value).strip()
    }


def store_credentials_set(*, store_id: str, actor: Actor, credentials: Mapping[str, str]) -> Store:
    """Replace some of a store's credentials (a blank value leaves one as it is).
    Encrypted at rest, all in one token; the audit entry names which credential
    changed and never its value."""
    wanted = _clean_credentials(credentials)
    with transaction.atomic():
        store = _locked_store(store_id)
        current = store.credentials()
        changed = sorted(name for name, value in wanted.items() if current.get(name) != value)
        if not changed:
            return store
        store.credentials_encrypted = encrypt_credentials({**current, **wanted})
        store.save(update_fields=["credentials_encrypted"])
        audit_record(
            actor=actor,
            action=AuditAction.STORE_CREDENTIALS,
            details={"store_id": store.store_id, "changed": changed},
        )
    return store


def store_credentials_rotate() -> int:
    """Re-encrypt every stored credential under the newest key; returns the
    number of stores rewritten. Raises CredentialDecryptError, writing
    nothing, when a credential cannot be opened with any configured key."""
    count = 0
    with transaction.atomic(durable=True):
        for store in Store.objects.select_for_update().order_by("store_id"):
            store.credentials_encrypted = rotate_secret(store.credentials_encrypted)
            store.save(update_fields=["credentials_encrypted"])
            count += 1
    return count


# --- allocation rules -------------------------------------------------------------

MSG_RULE_UNKNOWN = _("Unknown allocation rule %(rule_id)s.")
MSG_RULE_BUFFER_WINDOW = _(
    "A buffer rule needs a period (from and/or until): the everyday buffer is the safety "
    "stock of the store or of the SKU in it."
)
MSG_RULE_SHARE = _("A share is a percentage from 0 to 100.")
MSG_RULE_WINDOW = _("The period must end after it starts.")
MSG_RULE_SKU_UNKNOWN = _("Unknown SKU “%(sku_id)s”.")


def _rule_outbox(rule: AllocationRule) -> None:
    """What the store is told may change: push the SKU (or every SKU of the store)."""
    if rule.sku_id is None:
        outbox_mark_store(store_id=rule.store_id)
    else:
        outbox_mark(sku_id=rule.sku_id, store_id=rule.store_id)


def _rule_details(rule: AllocationRule) -> dict[str, Any]:
    return {
        "rule_id": rule.pk,
        "store_id": rule.store_id,
        "sku_id": rule.sku_id,
        "kind": rule.kind,
        "value": rule.value,
        "starts_at": rule.starts_at.isoformat() if rule.starts_at else None,
        "ends_at": rule.ends_at.isoformat() if rule.ends_at else None,
        "note": rule.note,
    }


def allocation_rule_check(rule: AllocationRule) -> None:
    """Refuse, with a message staff can act on, a rule the database would refuse."""
    if rule.kind == AllocationRule.Kind.BUFFER and not rule.windowed:
        raise StoreInvalid(str(MSG_RULE_BUFFER_WINDOW))
    if rule.kind == AllocationRule.Kind.SHARE and not 0 <= (rule.value or 0) <= 100:
        raise StoreInvalid(str(MSG_RULE_SHARE))
    if rule.starts_at and rule.ends_at and rule.starts_at >= rule.ends_at:
        raise StoreInvalid(str(MSG_RULE_WINDOW))
    try:
        rule.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise StoreInvalid(validation_message(exc, AllocationRule)) from exc


def allocation_rule_save(
    *,
    actor: Actor,
    store_id: str,
    kind: str,
    value: int,
    sku_id: str | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    note: str = "",
    rule_id: int | None = None,
) -> AllocationRule:
    """Create (or, with ``rule_id``, change) an allocation rule; audited, and what the
    store is told is pushed again (the SKU's, or every SKU's for a store-wide rule)."""
    with transaction.atomic():
        store = _locked_store(store_id)
        if rule_id is None:
            rule = AllocationRule(store=store)
            before = None
        else:
            rule = AllocationRule.objects.select_for_update().filter(pk=rule_id).first()
            if rule is None:
                raise StoreInvalid(str(MSG_RULE_UNKNOWN), rule_id=rule_id)
            before = _rule_details(rule)
            _rule_outbox(rule)  # what it covered before is told again too
        sku_key = None
        if sku_id not in (None, ""):
            sku_key = normalize_sku_id(sku_id)
            if not Sku.objects.filter(pk=sku_key).exists():
                raise StoreInvalid(str(MSG_RULE_SKU_UNKNOWN), sku_id=sku_key)
        rule.store = store
        rule.sku_id = sku_key
        rule.kind, rule.value, rule.note = kind, value, (note or "").strip()
        rule.starts_at, rule.ends_at = starts_at, ends_at
        allocation_rule_check(rule)
        rule.save()
        _rule_outbox(rule)
        audit_record(
            actor=actor,
            action=AuditAction.ALLOCATION_RULE,
            details={"rule": _rule_details(rule), "before": before},
        )
    return rule


def allocation_rule_delete(*, actor: Actor, rule_id: int) -> None:
    """Remove a rule; audited, and what it covered is pushed again."""
    with transaction.atomic():
        rule = AllocationRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise StoreInvalid(str(MSG_RULE_UNKNOWN), rule_id=rule_id)
        _rule_outbox(rule)
        details = _rule_details(rule)
        rule.delete()
        audit_record(
            actor=actor,
            action=AuditAction.ALLOCATION_RULE,
            details={"rule": None, "before": details},
        )


def allocation_edges_apply(now: dt.datetime | None = None) -> int:
    """Make due the pushes of every rule whose period started or ended since it was
    last looked at (a sale day beginning or ending changes what stores are told).
    Returns the number of rules whose edge was applied. Run every minute."""
    now = now or timezone.now()
    edge = Q(starts_at__lte=now) & (
        Q(edge_applied_at__isnull=True) | Q(starts_at__gt=F("edge_applied_at"))
    ) | Q(ends_at__lte=now) & (
        Q(edge_applied_at__isnull=True) | Q(ends_at__gt=F("edge_applied_at"))
    )
    applied = 0
    with transaction.atomic():
        for rule in AllocationRule.objects.select_for_update(skip_locked=True).filter(edge):
            _rule_outbox(rule)
            rule.edge_applied_at = now
            rule.save(update_fields=["edge_applied_at"])
            applied += 1
    return applied
