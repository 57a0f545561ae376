"""Writes to purchases, their items and official accounts. Every rule lives here; the
admin (and later the API and pages) only call these. Services the admin's change form
calls join its transaction (``atomic()``); the others are ``atomic(durable=True)``.

The arrival rule (how an item feeds the stock pool):

- An item counts ``received_quantity`` units in the pool of ``received_sku``. Its target
  is ``quantity`` units in ``sku`` when its status is ``arrived`` and it is linked to a
  SKU, else nothing.
- After every change to an item (status, SKU, quantity) the pool is brought to the
  target, under the item's row lock and in the same transaction: a RECEIPT event adds
  what is missing, a RECEIPT_REVERSED event takes back what is too much. When the SKU
  changed, everything counted in the old SKU is taken back from it and the new SKU gets
  the target.
- So: ``arrived`` adds ``quantity`` once; setting ``arrived`` again (a replay) adds
  nothing; arrived -> ``abnormal`` / ``out_of_stock`` / ``in_transit`` takes the units
  back; arrived -> in_transit -> arrived adds them back (the units left the pool in
  between, so it counts once); linking a SKU to an arrived item, or changing the
  quantity of an arrived item, corrects by the difference. The events of one item
  always add up to its ``received_quantity``.
- Each event's token is (item uuid, the item's count of stock changes): a replayed
  write can never record the same change twice.
- Taking units back is refused (OversellRefused, nothing written) when the SKU's stock
  would go below zero and the SKU does not allow oversell: the units were sold already;
  adjust the stock first.
- Soft-deleting a purchase leaves its items' units in the pool.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.models import AuditAction, EventSource, EventType, InventoryEvent
from events.services import (
    MSG_UNKNOWN_SKU,
    InvalidQuantity,
    audit_record,
    event_record,
    make_token,
    parse_quantity,
)
from inventory_site.errors import InventoryError, validation_message
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from skus.models import Sku, normalize_sku_id

MSG_PURCHASE_NOT_FOUND = _("Unknown purchase “%(purchase_id)s”.")
MSG_PURCHASE_DELETED = _("The purchase “%(purchase)s” is deleted.")
MSG_PURCHASE_READ_ONLY = _("These purchase fields are read-only: %(fields)s.")
MSG_PURCHASE_UNKNOWN_FIELDS = _("Purchases have no such fields: %(fields)s.")
MSG_ACCOUNT_NOT_FOUND = _("Unknown official account “%(account)s”.")
MSG_ACCOUNT_EXISTS = _("The official account “%(account_id)s” already exists.")
MSG_ACCOUNT_FIELD_NOT_EDITABLE = _("These official account fields cannot be changed: %(fields)s.")
MSG_ITEM_NOT_FOUND = _("Unknown purchase item “%(item_id)s”.")
MSG_ITEM_FIELD_NOT_EDITABLE = _("These purchase item fields cannot be changed: %(fields)s.")
MSG_ITEM_QUANTITY_MIN = _("An item's quantity must be at least 1.")
MSG_WORKER_INVALID = _("A worker name must be 1 to 50 characters.")
MSG_CLAIM_LIMIT = _("A worker claims 1 to %(limit)d purchases at a time.")
MSG_NOT_LOCKED = _("The purchase “%(purchase)s” is not locked.")
MSG_LOCK_HELD_BY_OTHER = _(
    "The purchase “%(purchase)s” is locked by worker “%(holder)s”; only that worker may release it."
)

# What spec 001 lets a client write; every other field is read-only or computed.
PURCHASE_EDITABLE_FIELDS = frozenset(
    {
        "order_number",
        "official_account",
        "batch_encoding",
        "batch_level_1",
        "batch_level_2",
        "batch_level_3",
        "confirmed_at",
        "shipped_at",
        "estimated_website_arrival_date",
        "estimated_website_arrival_date_2",
        "tracking_number",
        "estimated_delivery_date",
        "shipping_method",
        "official_query_url",
        "delivery_status",
        "latest_delivery_status",
        "delivery_status_query_time",
        "delivery_status_query_source",
        "last_info_updated_at",
        "account_used",
        "payment_method",
        "creation_source",
    }
)
PURCHASE_READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "uuid",
        "official_account_display",
        "created_at",
        "delivery_status_display",
        "inventory_count",
        "inventory_items",
        "is_locked",
        "locked_at",
        "locked_by_worker",
        "is_deleted",
        "updated_at",
    }
)
ACCOUNT_EDITABLE_FIELDS = frozenset({"account_id", "email", "name"})
ITEM_EDITABLE_FIELDS = frozenset({"status", "sku_id", "quantity", "flag", "product_type"})
WORKER_MAX_LENGTH = 50
CLAIM_LIMIT_MAX = 1000


class PurchasingError(InventoryError):
    """A refused purchasing operation; nothing was written."""


class PurchaseNotFound(PurchasingError):
    pass


class PurchaseInvalid(PurchasingError):
    pass


class ItemNotFound(PurchasingError):
    pass


class ItemInvalid(PurchasingError):
    pass


class PurchaseLockError(PurchasingError):
    """A claim or release a worker may not make."""


# --- helpers -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A value as the audit log's JSON can hold it."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _assign(
    instance: models.Model, changes: dict[str, Any], *, error: type[PurchasingError]
) -> dict[str, list[Any]]:
    """Set ``changes`` (text stripped, None for a NOT NULL text field becomes ""), check
    every field, and return what really changed as ``{field: [before, after]}``."""
    before = {field: getattr(instance, field) for field in changes}
    for field, value in changes.items():
        model_field = instance._meta.get_field(field)  # by name or attname
        if isinstance(value, str):
            value = value.strip()
        if value is None and not model_field.null and isinstance(model_field, models.CharField):
            value = ""
        if isinstance(model_field, models.TextField) and value is None:
            value = ""
        setattr(instance, field, value)
    try:
        instance.full_clean(
            exclude=["purchase", "sku", "received_sku", "official_account"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise error(validation_message(exc, type(instance))) from exc
    return {
        field: [_jsonable(before[field]), _jsonable(getattr(instance, field))]
        for field in changes
        if getattr(instance, field) != before[field]
    }


def _official_account(value: object) -> OfficialAccount | None:
    if value in (None, ""):
        return None
    if isinstance(value, OfficialAccount):
        return value
    try:
        account = OfficialAccount.objects.filter(pk=int(str(value))).first()
    except ValueError:
        account = None
    if account is None:
        raise PurchaseInvalid(str(MSG_ACCOUNT_NOT_FOUND), account=str(value)[:60])
    return account


def _purchase_locked(purchase_id: object) -> Purchasing:
    try:
        found = Purchasing.objects.select_for_update().filter(pk=int(str(purchase_id))).first()
    except ValueError:
        found = None
    if found is None:
        raise PurchaseNotFound(str(MSG_PURCHASE_NOT_FOUND), purchase_id=str(purchase_id)[:60])
    return found


# --- official accounts ---------------------------------------------------------------


def official_account_create(
    *, account_id: str, actor: Actor, email: str = "", name: str = ""
) -> OfficialAccount:
    """Create an official account; audited. ``account_id`` is unique."""
    account = OfficialAccount()
    diff = _assign(
        account, {"account_id": account_id, "email": email, "name": name}, error=PurchaseInvalid
    )
    with transaction.atomic():
        if OfficialAccount.objects.filter(account_id=account.account_id).exists():
            raise PurchaseInvalid(str(MSG_ACCOUNT_EXISTS), account_id=account.account_id)
        account.save(force_insert=True)
        audit_record(
            actor=actor,
            action=AuditAction.OFFICIAL_ACCOUNT_CHANGE,
            details={"account": account.pk, "created": {k: v[1] for k, v in diff.items()}},
        )
    return account


def official_account_update(*, account_pk: int, actor: Actor, **changes: Any) -> OfficialAccount:
    """Change an official account's id, email or name; audited with each change."""
    refused = sorted(set(changes) - ACCOUNT_EDITABLE_FIELDS)
    if refused:
        raise PurchaseInvalid(str(MSG_ACCOUNT_FIELD_NOT_EDITABLE), fields=", ".join(refused))
    with transaction.atomic():
        account = OfficialAccount.objects.select_for_update().filter(pk=account_pk).first()
        if account is None:
            raise PurchaseInvalid(str(MSG_ACCOUNT_NOT_FOUND), account=str(account_pk))
        diff = _assign(account, changes, error=PurchaseInvalid)
        if not diff:
            return account
        taken = OfficialAccount.objects.filter(account_id=account.account_id)
        if "account_id" in diff and taken.exclude(pk=account.pk).exists():
            raise PurchaseInvalid(str(MSG_ACCOUNT_EXISTS), account_id=account.account_id)
        account.save(update_fields=[*diff, "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.OFFICIAL_ACCOUNT_CHANGE,
            details={"account": account.pk, "changes": diff},
        )
    return account


# --- purchases -------------------------------------------------------------------------


def _purchase_fields_check(fields: Iterable[str]) -> None:
    names = set(fields)
    read_only = sorted(names & PURCHASE_READ_ONLY_FIELDS)
    if read_only:
        raise PurchaseInvalid(str(MSG_PURCHASE_READ_ONLY), fields=", ".join(read_only))
    unknown = sorted(names - PURCHASE_EDITABLE_FIELDS)
    if unknown:
        raise PurchaseInvalid(str(MSG_PURCHASE_UNKNOWN_FIELDS), fields=", ".join(unknown))


def purchase_create(*, actor: Actor, **fields: Any) -> Purchasing:
    """Create a purchase from spec 001's writable fields (read-only ones are refused);
    its ``uuid`` is generated. Audited."""
    _purchase_fields_check(fields)
    purchase = Purchasing()
    if "official_account" in fields:
        purchase.official_account = _official_account(fields.pop("official_account"))
    diff = _assign(purchase, fields, error=PurchaseInvalid)
    with transaction.atomic():
        purchase.save(force_insert=True)
        audit_record(
            actor=actor,
            action=AuditAction.PURCHASE_CREATE,
            details={
                "purchase": purchase.pk,
                "uuid": purchase.uuid,
                "order_number": purchase.order_number,
                "official_account": purchase.official_account_id,
                "fields": {field: after for field, (_before, after) in diff.items()},
            },
        )
    return purchase


def purchase_update(*, purchase_id: int, actor: Actor, **changes: Any) -> Purchasing:
    """Change a purchase's writable fields; read-only fields (uuid, times, the lock, the
    soft delete, computed fields) are refused. Audited with the before and after of
    each field that changed; changing nothing writes nothing."""
    _purchase_fields_check(changes)
    with transaction.atomic():
        purchase = _purchase_locked(purchase_id)
        diff = {}
        if "official_account" in changes:
            account = _official_account(changes.pop("official_account"))
            if account != purchase.official_account:
                diff["official_account"] = [purchase.official_account_id, _jsonable(account)]
                purchase.official_account = account
        diff |= _assign(purchase, changes, error=PurchaseInvalid)
        if not diff:
            return purchase
        purchase.save(update_fields=[*diff, "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.PURCHASE_UPDATE,
            details={"purchase": purchase.pk, "uuid": purchase.uuid, "changes": diff},
        )
    return purchase


def _purchase_deleted_set(*, purchase_id: int, actor: Actor, deleted: bool) -> Purchasing:
    with transaction.atomic(durable=True):
        purchase = _purchase_locked(purchase_id)
        if purchase.is_deleted == deleted:
            return purchase
        purchase.is_deleted = deleted
        purchase.save(update_fields=["is_deleted", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.PURCHASE_DELETE if deleted else AuditAction.PURCHASE_UPDATE,
            details={
                "purchase": purchase.pk,
                "uuid": purchase.uuid,
                "changes": {"is_deleted": [not deleted, deleted]},
            },
        )
    return purchase


def purchase_delete(*, purchase_id: int, actor: Actor) -> Purchasing:
    """Soft-delete a purchase (``is_deleted``): hidden from lists and claims, its rows
    and its items' stock kept. Deleting it again changes nothing. Audited."""
    return _purchase_deleted_set(purchase_id=purchase_id, actor=actor, deleted=True)


def purchase_restore(*, purchase_id: int, actor: Actor) -> Purchasing:
    """Undo a soft delete. Audited."""
    return _purchase_deleted_set(purchase_id=purchase_id, actor=actor, deleted=False)


# --- worker locks --------------------------------------------------------------------


def _worker_clean(worker: str) -> str:
    name = (worker or "").strip()
    if not name or len(name) > WORKER_MAX_LENGTH:
        raise PurchaseLockError(str(MSG_WORKER_INVALID))
    return name


def purchase_claim(
    *,
    worker: str,
    limit: int = 1,
    now: dt.datetime | None = None,
    delivery_statuses: Iterable[str] | None = None,
) -> list[Purchasing]:
    """Lock up to ``limit`` live purchases for ``worker`` and return them, oldest first.

    A purchase can be claimed when it is not deleted and is unlocked or its lock is
    older than ``settings.PURCHASING_LOCK_SECONDS`` (its worker died). On PostgreSQL the
    candidates are read ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take disjoint
    purchases without waiting for each other; SQLite serializes writers anyway.
    ``delivery_statuses`` narrows the claim (a tracker skips delivered orders). Worker
    locks are not audited (they are no staff action)."""
    name = _worker_clean(worker)
    if not 1 <= limit <= CLAIM_LIMIT_MAX:
        raise PurchaseLockError(str(MSG_CLAIM_LIMIT), limit=CLAIM_LIMIT_MAX)
    now = now or timezone.now()
    expired = now - dt.timedelta(seconds=settings.PURCHASING_LOCK_SECONDS)
    candidates = Purchasing.objects.filter(is_deleted=False).filter(
        Q(is_locked=False) | Q(locked_at__isnull=True) | Q(locked_at__lte=expired)
    )
    if delivery_statuses is not None:
        candidates = candidates.filter(delivery_status__in=list(delivery_statuses))
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True)
    with transaction.atomic(durable=True):
        ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:limit])
        Purchasing.objects.filter(pk__in=ids).update(
            is_locked=True, locked_at=now, locked_by_worker=name, updated_at=now
        )
    return list(Purchasing.objects.filter(pk__in=ids).order_by("pk"))


def purchase_release(*, purchase_id: int, worker: str) -> Purchasing:
    """Unlock a purchase. Only the worker holding the lock may release it (even an
    expired one, as long as nobody claimed it since); anyone else is refused with
    PurchaseLockError, and so is a release of an unlocked purchase."""
    name = _worker_clean(worker)
    with transaction.atomic(durable=True):
        purchase = _purchase_locked(purchase_id)
        if not purchase.is_locked:
            raise PurchaseLockError(str(MSG_NOT_LOCKED), purchase=str(purchase))
        if purchase.locked_by_worker != name:
            raise PurchaseLockError(
                str(MSG_LOCK_HELD_BY_OTHER),
                purchase=str(purchase),
                holder=purchase.locked_by_worker,
            )
        purchase.is_locked = False
        purchase.locked_at = None
        purchase.locked_by_worker = ""
        purchase.save(update_fields=["is_locked", "locked_at", "locked_by_worker", "updated_at"])
    return purchase


# --- items and the arrival rule --------------------------------------------------------


def _sku_key(value: object) -> str | None:
    """The key of an existing SKU, or None for no SKU."""
    if value in (None, ""):
        return None
    if isinstance(value, Sku):
        return value.pk
    try:
        key = normalize_sku_id(value)
    except ValidationError as exc:
        raise ItemInvalid(str(MSG_UNKNOWN_SKU), sku_id=str(value)[:60]) from exc
    if not Sku.objects.filter(pk=key).exists():
        raise ItemInvalid(str(MSG_UNKNOWN_SKU), sku_id=key)
    return key


def _item_quantity(value: object) -> int:
    try:
        quantity = parse_quantity(value, allow_zero=True)
    except InvalidQuantity as exc:
        raise ItemInvalid(exc.message) from exc
    if quantity < 1:
        raise ItemInvalid(str(MSG_ITEM_QUANTITY_MIN))
    return quantity


def _receipt_record(
    item: InventoryItem, *, sku_id: str, quantity: int, actor: Actor
) -> InventoryEvent:
    """One stock event for ``item``, its token unique to the item's next stock change."""
    item.receipt_revision += 1
    purchase = item.purchase
    return event_record(
        sku_id=sku_id,
        quantity=quantity,
        event_type=EventType.RECEIPT if quantity > 0 else EventType.RECEIPT_REVERSED,
        source=EventSource.SYSTEM if actor.is_system else EventSource.MANUAL,
        operator=actor.username,
        token=make_token("purchasing.receipt", item.uuid, item.receipt_revision),
        reason=f"purchase {purchase} item {item}: {item.status}",
        metadata={
            "purchase_id": purchase.pk,
            "purchase_uuid": purchase.uuid,
            "order_number": purchase.order_number,
            "item_id": item.pk,
            "item_uuid": item.uuid,
            "status": item.status,
        },
    )


def _pool_converge(item: InventoryItem, *, actor: Actor) -> list[InventoryEvent]:
    """Bring the units the pool counts for ``item`` to its target (the arrival rule in
    the module docstring); save the item's counters. Runs in the caller's transaction
    with the item's row locked."""
    target_sku = item.sku_id if item.status == InventoryItem.Status.ARRIVED else None
    target = item.quantity if target_sku is not None else 0
    held_sku, held = item.received_sku_id, item.received_quantity
    events = []
    if held and held_sku != target_sku:
        events.append(_receipt_record(item, sku_id=held_sku, quantity=-held, actor=actor))
        held = 0
    if target_sku is not None and target != held:
        events.append(_receipt_record(item, sku_id=target_sku, quantity=target - held, actor=actor))
    if events:
        item.received_sku_id = target_sku if target else None
        item.received_quantity = target
        item.save(
            update_fields=["received_sku", "received_quantity", "receipt_revision", "updated_at"]
        )
    return events


def _item_values(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if "sku_id" in values:
        values["sku_id"] = _sku_key(values["sku_id"])
    if "quantity" in values:
        values["quantity"] = _item_quantity(values["quantity"])
    return values


def _item_apply(item: InventoryItem, *, changes: dict[str, Any], actor: Actor) -> InventoryItem:
    """Change a locked item, converge its stock and audit; nothing when nothing changed."""
    diff = _assign(item, _item_values(changes), error=ItemInvalid)
    if not diff:
        return item
    item.save(update_fields=[*diff, "updated_at"])
    events = _pool_converge(item, actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.PURCHASE_ITEM_UPDATE,
        details={
            "purchase": item.purchase_id,
            "item": item.pk,
            "uuid": item.uuid,
            "changes": diff,
            "events": [{"sku_id": e.sku_id, "quantity": e.quantity} for e in events],
        },
    )
    return item


def _items_locked(item_ids: Iterable[object]) -> list[InventoryItem]:
    """The items, locked in id order (two bulk changes never deadlock on them)."""
    ids = set()
    for item_id in item_ids:
        try:
            ids.add(int(str(item_id)))
        except ValueError as exc:
            raise ItemNotFound(str(MSG_ITEM_NOT_FOUND), item_id=str(item_id)[:60]) from exc
    items = list(InventoryItem.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    missing = sorted(ids - {item.pk for item in items})
    if missing:
        raise ItemNotFound(str(MSG_ITEM_NOT_FOUND), item_id=missing[0])
    return items


def item_add(
    *,
    purchase_id: int,
    actor: Actor,
    sku_id: str | None = None,
    quantity: object = 1,
    flag: str = "",
    status: str = InventoryItem.Status.IN_TRANSIT,
    product_type: str | None = None,
) -> InventoryItem:
    """Add an item to a live purchase; audited. An item added as ``arrived`` with a SKU
    adds its quantity to the pool at once (the arrival rule)."""
    values = _item_values({"sku_id": sku_id, "quantity": quantity})
    with transaction.atomic():
        purchase = _purchase_locked(purchase_id)
        if purchase.is_deleted:
            raise PurchaseInvalid(str(MSG_PURCHASE_DELETED), purchase=str(purchase))
        item = InventoryItem(purchase=purchase)
        _assign(
            item,
            {**values, "flag": flag, "status": status, "product_type": product_type},
            error=ItemInvalid,
        )
        item.save(force_insert=True)
        events = _pool_converge(item, actor=actor)
        audit_record(
            actor=actor,
            action=AuditAction.PURCHASE_ITEM_ADD,
            details={
                "purchase": purchase.pk,
                "item": item.pk,
                "uuid": item.uuid,
                "sku_id": item.sku_id,
                "quantity": item.quantity,
                "status": item.status,
                "events": [{"sku_id": e.sku_id, "quantity": e.quantity} for e in events],
            },
        )
    return item


def item_update(*, item_id: int, actor: Actor, **changes: Any) -> InventoryItem:
    """Change an item's status, SKU (``sku_id``), quantity, flag or product type, and
    bring its stock in the pool to what the arrival rule says, in one transaction under
    the item's row lock. Replaying a change adds nothing. Audited."""
    refused = sorted(set(changes) - ITEM_EDITABLE_FIELDS)
    if refused:
        raise ItemInvalid(str(MSG_ITEM_FIELD_NOT_EDITABLE), fields=", ".join(refused))
    with transaction.atomic():
        (item,) = _items_locked([item_id])
        return _item_apply(item, changes=changes, actor=actor)


def item_status_set(*, item_id: int, status: str, actor: Actor) -> InventoryItem:
    """Set an item's status (``item_update`` with the status only)."""
    return item_update(item_id=item_id, actor=actor, status=status)


def items_mark_arrived(*, item_ids: Iterable[int], actor: Actor) -> list[InventoryItem]:
    """Mark many items arrived in one transaction: all or none. Items are locked in id
    order; those already arrived add nothing. Returns the items, in id order."""
    with transaction.atomic(durable=True):
        items = _items_locked(item_ids)
        # Stock rows are then locked in SKU order, so two bulk arrivals never deadlock.
        for item in sorted(items, key=lambda item: (item.sku_id or "", item.pk)):
            _item_apply(item, changes={"status": InventoryItem.Status.ARRIVED}, actor=actor)
    return items
