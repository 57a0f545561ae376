"""The one way a SKU is registered to a store: the admin, the CSV import and the SKU
sync all come through ``store_sku_register_many``.

It checks the platform keys against the platform's rules (its binder), refuses keys
another SKU of the store already holds, writes the registration and its binding, makes
the store due a push of the SKU's stock (outbox), and audits what a person did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.ledger import outbox_mark
from events.models import AuditAction
from events.services import audit_record
from inventory_site.errors import InventoryError
from skus.models import Sku
from stores.models import Store, StoreSku

from .adapters import BindingInvalid
from .registry import binder_for

MSG_STORE_UNKNOWN = _("Unknown store “%(store_id)s”.")
MSG_SKU_UNKNOWN = _("Unknown SKU “%(sku_id)s”.")
MSG_KEYS_TAKEN = _("In store %(store_id)s, %(listing)s is already registered to SKU %(other)s.")
MSG_KEYS_TWICE = _("%(listing)s is given to two SKUs: %(first)s and %(second)s.")
MSG_SAFETY_NEGATIVE = _("The safety stock cannot be negative.")

KEEP = object()  # a safety stock left as it is


class RegistrationInvalid(InventoryError):
    """A registration the platform or the store would refuse; nothing was written."""


@dataclass(frozen=True)
class Registration:
    """Register ``sku_id`` in a store under the platform's ``keys`` (case kept)."""

    sku_id: str
    keys: Mapping[str, str] = field(default_factory=dict)
    safety_stock: int | object | None = KEEP


@dataclass
class RegisterResult:
    created: int = 0
    rebound: int = 0
    registrations: dict[str, StoreSku] = field(default_factory=dict)


def registrations_check(
    store: Store, entries: Sequence[Registration], *, skus_to_create: Iterable[str] = ()
) -> dict[int, str]:
    """Why each entry would be refused (entry index -> message); empty when all are fine.
    Reads only (a few queries, whatever the number of entries): the CSV preview shows
    these as error rows. ``skus_to_create``: SKUs the caller creates before registering."""
    binder = binder_for(store.platform_type)
    errors: dict[int, str] = {}
    known = set(skus_to_create)
    wanted = [e.sku_id.lower() for e in entries if e.sku_id.lower() not in known]
    for start in range(0, len(wanted), 500):
        known.update(
            Sku.objects.filter(sku_id__in=wanted[start : start + 500]).values_list(
                "sku_id", flat=True
            )
        )
    cleaned: dict[int, dict[str, str]] = {}
    for index, entry in enumerate(entries):
        if entry.sku_id.lower() not in known:
            errors[index] = str(MSG_SKU_UNKNOWN % {"sku_id": entry.sku_id})
        elif isinstance(entry.safety_stock, int) and entry.safety_stock < 0:
            errors[index] = str(MSG_SAFETY_NEGATIVE)
        else:
            try:
                cleaned[index] = binder.clean(entry.keys)
            except BindingInvalid as exc:
                errors[index] = str(exc)
    identities = {index: binder.identity(keys) for index, keys in cleaned.items()}
    holders = binder.holders(store, list(identities.values()))
    first: dict[tuple, str] = {}
    for index, identity in identities.items():
        sku_id = entries[index].sku_id.lower()
        if not any(identity):
            continue
        listing = binder.label(cleaned[index])
        other = holders.get(identity)
        if other is not None and other != sku_id:
            errors[index] = str(
                MSG_KEYS_TAKEN % {"store_id": store.store_id, "listing": listing, "other": other}
            )
        elif first.setdefault(identity, sku_id) != sku_id:
            errors[index] = str(
                MSG_KEYS_TWICE % {"listing": listing, "first": first[identity], "second": sku_id}
            )
    return errors


def store_sku_register_many(
    *, store_id: str, entries: Sequence[Registration], actor: Actor
) -> RegisterResult:
    """Register every entry or none (``RegistrationInvalid`` names the first refusal).

    A registration whose keys did not change makes nothing due; a new one, or one with
    new keys, makes the store due a push of the SKU's stock."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise RegistrationInvalid(str(MSG_STORE_UNKNOWN), store_id=store_id)
    errors = registrations_check(store, entries)
    if errors:
        raise RegistrationInvalid(errors[min(errors)])
    binder = binder_for(store.platform_type)
    result = RegisterResult()
    with transaction.atomic():
        existing = {
            registration.sku_id: registration
            for registration in StoreSku.objects.filter(
                store=store, sku_id__in=[e.sku_id.lower() for e in entries]
            )
        }
        new = []
        for entry in entries:
            sku_id = entry.sku_id.lower()
            if sku_id not in existing:
                registration = StoreSku(store=store, sku_id=sku_id)
                if entry.safety_stock is not KEEP:
                    registration.safety_stock = entry.safety_stock
                existing[sku_id] = registration
                new.append(registration)
        StoreSku.objects.bulk_create(new, batch_size=2000)
        if connection_lacks_returning_ids(new):
            ids = dict(
                StoreSku.objects.filter(
                    store=store, sku_id__in=[r.sku_id for r in new]
                ).values_list("sku_id", "id")
            )
            for registration in new:
                registration.id = ids[registration.sku_id]
        created = {registration.sku_id for registration in new}
        changed_safety = []
        for entry in entries:
            registration = existing[entry.sku_id.lower()]
            if (
                registration.sku_id not in created
                and entry.safety_stock is not KEEP
                and registration.safety_stock != entry.safety_stock
            ):
                registration.safety_stock = entry.safety_stock
                changed_safety.append(registration)
        StoreSku.objects.bulk_update(changed_safety, ["safety_stock"], batch_size=2000)
        keys = {existing[entry.sku_id.lower()].id: binder.clean(entry.keys) for entry in entries}
        before = binder.keys_of(list(keys))
        rebound = {
            registration_id: wanted
            for registration_id, wanted in keys.items()
            if before.get(registration_id, {}) != wanted
            and (any(wanted.values()) or registration_id in before)
        }
        binder.bind_many(store, rebound)
        safety_changed = {registration.sku_id for registration in changed_safety}
        due = (
            created
            | safety_changed
            | {
                registration.sku_id
                for registration in existing.values()
                if registration.id in rebound
            }
        )
        for sku_id in sorted(due):
            outbox_mark(sku_id=sku_id, store_id=store.store_id)
        result.created = len(new)
        result.rebound = len(
            [r for r in existing.values() if r.id in rebound and r.sku_id not in created]
        )
        result.registrations = existing
        if not actor.is_system:
            _audit(actor, store, entries, keys, existing, created)
    return result


def connection_lacks_returning_ids(rows: list[StoreSku]) -> bool:
    """bulk_create sets primary keys only where the database returns them."""
    return any(row.id is None for row in rows)


def _audit(
    actor: Actor,
    store: Store,
    entries: Sequence[Registration],
    keys: dict[int, dict[str, str]],
    existing: dict[str, StoreSku],
    created: set[str],
) -> None:
    for entry in entries[:100]:
        registration = existing[entry.sku_id.lower()]
        audit_record(
            actor=actor,
            action=AuditAction.SKU_REGISTER,
            details={
                "store_id": store.store_id,
                "sku_id": registration.sku_id,
                **keys[registration.id],
                "created": registration.sku_id in created,
            },
        )


def store_sku_register(
    *,
    store_id: str,
    sku_id: str,
    actor: Actor,
    safety_stock: int | None = None,
    **keys: str,
) -> StoreSku:
    """Register one SKU in a store under the platform's keys (``manage_number=``,
    ``variant_id=`` … for RMS), or change the keys of its registration."""
    result = store_sku_register_many(
        store_id=store_id,
        entries=[Registration(sku_id=sku_id, keys=keys, safety_stock=safety_stock)],
        actor=actor,
    )
    return result.registrations[sku_id.lower()]
