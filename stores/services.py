"""Writes to stores, their credentials and their SKU registrations."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record, fields_assign
from inventory_site.errors import InventoryError, validation_message
from stores.crypto import encrypt_credentials, rotate_secret
from stores.models import Store

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
