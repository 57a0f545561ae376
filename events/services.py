"""The ledger services: every stock change goes through ``event_record``.

Invariants, checked by ``selectors.snapshot_drift`` and the tests:
- ``snapshot.internal_available == sum(event.quantity)`` for every SKU;
- one event per token: recording a token again returns the first event and
  changes nothing;
- an event that changes stock writes, in the same transaction, one pending
  push per active store the SKU is registered in (the outbox).
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.actors import Actor
from events.models import (
    ORDER_EVENT_TYPES,
    ZERO_QUANTITY_EVENT_TYPES,
    AuditAction,
    AuditLog,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
)
from inventory_site.errors import InventoryError
from skus.models import TEST_SKU_ID, Sku, normalize_sku_id
from stores.models import Store

logger = logging.getLogger(__name__)

# Far beyond any real stock, far inside a 32-bit integer.
QUANTITY_LIMIT = 10_000_000
TOKEN_MAX_LENGTH = 64

MSG_UNKNOWN_SKU = _("Unknown SKU “%(sku_id)s”.")
MSG_UNKNOWN_STORE = _("Unknown store “%(store_id)s”.")
MSG_QUANTITY_NOT_INTEGER = _("The quantity “%(value)s” is not a whole number.")
MSG_QUANTITY_ZERO = _("The quantity must not be zero.")
MSG_QUANTITY_OUT_OF_RANGE = _("The quantity %(value)s is out of range (at most ±%(limit)d).")
MSG_OVERSELL_REFUSED = _(
    "Refused: this would take the stock of %(sku_id)s from %(available)d to %(result)d, "
    "and the SKU does not allow oversell."
)
MSG_TOKEN_INVALID = _("An idempotency token must be 1 to 64 characters.")
MSG_TOKEN_REUSED = _(
    "The token “%(token)s” was already used for a different change (%(existing)s)."
)
MSG_REASON_REQUIRED = _("A reason is required for a manual adjustment.")
MSG_UNKNOWN_EVENT_TYPE = _("Unknown event type “%(value)s”.")
MSG_UNKNOWN_SOURCE = _("Unknown event source “%(value)s”.")


class LedgerError(InventoryError):
    """Bad input to the ledger; nothing was written."""


class UnknownSku(LedgerError):
    pass


class UnknownStore(LedgerError):
    pass


class InvalidQuantity(LedgerError):
    pass


class OversellRefused(LedgerError):
    pass


class TokenReused(LedgerError):
    pass


# --- audit ----------------------------------------------------------------


def audit_record(*, actor: Actor, action: str, details: dict[str, Any] | None = None) -> AuditLog:
    """Append one audit entry. Callers never pass credentials in ``details``."""
    return AuditLog.objects.create(
        user=actor.username, action=action, details=details or {}, ip=actor.ip
    )


# --- input checks -----------------------------------------------------------


def make_token(*parts: object) -> str:
    """A stable idempotency token from the parts that identify a change."""
    joined = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(joined.encode()).hexdigest()


def parse_quantity(value: object, *, allow_zero: bool = False) -> int:
    """A whole number from an int or a numeric string; a clear error otherwise."""
    if isinstance(value, bool):
        raise InvalidQuantity(str(MSG_QUANTITY_NOT_INTEGER), value=value)
    if isinstance(value, int):
        quantity = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        quantity = int(value.strip())
    else:
        raise InvalidQuantity(str(MSG_QUANTITY_NOT_INTEGER), value=value)
    if abs(quantity) > QUANTITY_LIMIT:
        raise InvalidQuantity(str(MSG_QUANTITY_OUT_OF_RANGE), value=quantity, limit=QUANTITY_LIMIT)
    if quantity == 0 and not allow_zero:
        raise InvalidQuantity(str(MSG_QUANTITY_ZERO))
    return quantity


def _sku_for_event(sku_id: object) -> Sku:
    try:
        key = normalize_sku_id(sku_id)
    except ValidationError as exc:  # such an id cannot exist
        raise UnknownSku(str(MSG_UNKNOWN_SKU), sku_id=str(sku_id)[:60]) from exc
    sku = Sku.objects.filter(pk=key).only("sku_id", "allow_oversell").first()
    if sku is None:
        raise UnknownSku(str(MSG_UNKNOWN_SKU), sku_id=key)
    return sku


def _check_store(store_id: str | None) -> None:
    if store_id is not None and not Store.objects.filter(pk=store_id).exists():
        raise UnknownStore(str(MSG_UNKNOWN_STORE), store_id=store_id)


# --- the ledger -------------------------------------------------------------


def _db_value(model: type, field_name: str, value: Any) -> Any:
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


_SNAPSHOT_APPLY_SQL = (
    "UPDATE inventory_snapshots SET internal_available = internal_available + %s, "
    "last_event_id = %s, updated_at = %s WHERE sku_id = %s{guard} RETURNING internal_available"
)
_SNAPSHOT_GUARD_SQL = " AND internal_available + %s >= 0"

# One pending push per active store the SKU is registered in, coalesced: a
# row already waiting stays one row; a failed row gets a fresh start; a row
# in backoff keeps its next attempt time (the platform is failing).
_OUTBOX_SQL = """
INSERT INTO pending_push (store_id, sku_id, status, attempts, next_attempt_at, last_error,
                          requested_at, created_at, updated_at)
SELECT store_sku.store_id, store_sku.sku_id, 'pending', 0, %s, '', %s, %s, %s
FROM store_sku JOIN stores ON stores.store_id = store_sku.store_id
WHERE store_sku.sku_id = %s AND stores.status = 'active'
ON CONFLICT (store_id, sku_id) DO UPDATE SET
    status = 'pending',
    requested_at = excluded.requested_at,
    updated_at = excluded.updated_at,
    attempts = CASE WHEN pending_push.status = 'failed' THEN 0 ELSE pending_push.attempts END,
    next_attempt_at = CASE
        WHEN pending_push.status = 'failed' OR pending_push.attempts = 0
        THEN excluded.next_attempt_at ELSE pending_push.next_attempt_at END
"""


def outbox_mark(*, sku_id: str, store_id: str | None = None) -> None:
    """Make a push of ``sku_id`` due in every active store it is registered in
    (or only in ``store_id``). Runs in the caller's transaction."""
    now = _db_value(InventoryEvent, "created_at", timezone.now())
    sql = _OUTBOX_SQL
    params: list[Any] = [now, now, now, now, sku_id]
    if store_id is not None:
        sql = sql.replace("AND stores.status", "AND store_sku.store_id = %s AND stores.status")
        params.append(store_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _ensure_snapshot(sku_id: str) -> None:
    InventorySnapshot.objects.bulk_create(
        [InventorySnapshot(sku_id=sku_id, internal_available=0)], ignore_conflicts=True
    )


def event_record(
    *,
    sku_id: str,
    quantity: object,
    event_type: str,
    source: str,
    operator: str,
    token: str | None = None,
    store_id: str | None = None,
    order_id: str | None = None,
    platform_status: str | None = None,
    reason: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> InventoryEvent:
    """Record one stock change; return its event.

    Idempotent by ``token``: recording a token again returns the first event
    (``replayed`` is True on it) and changes nothing. The snapshot is updated
    under its row lock in the same transaction as the insert, and the outbox
    rows with it. An order is a fact and is always recorded (flagged
    ``oversold`` when it takes a SKU that does not allow oversell below zero);
    any other change that would go below zero is refused with OversellRefused
    and writes nothing.

    Joins the caller's transaction if there is one (no savepoint).
    """
    if event_type not in EventType.values:
        raise LedgerError(str(MSG_UNKNOWN_EVENT_TYPE), value=event_type)
    if source not in EventSource.values:
        raise LedgerError(str(MSG_UNKNOWN_SOURCE), value=source)
    amount = parse_quantity(quantity, allow_zero=event_type in ZERO_QUANTITY_EVENT_TYPES)
    token = token if token is not None else uuid.uuid4().hex
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LedgerError(str(MSG_TOKEN_INVALID))
    sku = _sku_for_event(sku_id)
    _check_store(store_id)

    existing = InventoryEvent.objects.filter(token=token).first()
    if existing is not None:
        return _replayed(existing, sku_id=sku.sku_id, quantity=amount, event_type=event_type)

    is_order = event_type in ORDER_EVENT_TYPES
    guard = amount < 0 and not is_order and not sku.allow_oversell
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(savepoint=False):
            event = _apply(
                sku=sku,
                amount=amount,
                guard=guard,
                is_order=is_order,
                fields={
                    "event_type": event_type,
                    "source": source,
                    "operator": operator[:100],
                    "token": token,
                    "store_id": store_id,
                    "order_id": order_id,
                    "platform_status": platform_status,
                    "reason": reason,
                    "metadata": metadata or {},
                },
            )
    except IntegrityError:
        # Two writers raced with one token: the other one's event stands.
        existing = None if nested else InventoryEvent.objects.filter(token=token).first()
        if existing is None:
            raise
        return _replayed(existing, sku_id=sku.sku_id, quantity=amount, event_type=event_type)
    if event is None:
        available = InventorySnapshot.objects.get(pk=sku.sku_id).internal_available
        raise OversellRefused(
            str(MSG_OVERSELL_REFUSED),
            sku_id=sku.display_id,
            available=available,
            result=available + amount,
        )
    return event


def _apply(
    *, sku: Sku, amount: int, guard: bool, is_order: bool, fields: dict[str, Any]
) -> InventoryEvent | None:
    """Lock and move the snapshot, insert the event, mark the outbox.

    Returns None, having written nothing, when the guard refuses."""
    event_id = uuid.uuid4()
    now = timezone.now()
    sql = _SNAPSHOT_APPLY_SQL.format(guard=_SNAPSHOT_GUARD_SQL if guard else "")
    params: list[Any] = [
        amount,
        _db_value(InventorySnapshot, "last_event", event_id),
        _db_value(InventorySnapshot, "updated_at", now),
        sku.sku_id,
    ]
    if guard:
        params.append(amount)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None and not InventorySnapshot.objects.filter(pk=sku.sku_id).exists():
            _ensure_snapshot(sku.sku_id)
            cursor.execute(sql, params)
            row = cursor.fetchone()
    if row is None:
        return None
    balance = row[0]
    event = InventoryEvent(
        event_id=event_id,
        sku_id=sku.sku_id,
        quantity=amount,
        balance_after=balance,
        oversold=is_order and amount < 0 and balance < 0 and not sku.allow_oversell,
        created_at=timezone.now(),
        **fields,
    )
    event.save()
    if amount != 0:
        outbox_mark(sku_id=sku.sku_id)
    if event.oversold:
        logger.warning("oversell: %s now %d after %s", sku.sku_id, balance, event.event_type)
    event.replayed = False
    return event


def _replayed(
    existing: InventoryEvent, *, sku_id: str, quantity: int, event_type: str
) -> InventoryEvent:
    if (existing.sku_id, existing.quantity, existing.event_type) != (sku_id, quantity, event_type):
        raise TokenReused(
            str(MSG_TOKEN_REUSED),
            token=existing.token,
            existing=f"{existing.event_type} {existing.sku_id} {existing.quantity:+d}",
        )
    existing.replayed = True
    return existing


def stock_adjust(
    *, sku_id: str, quantity: object, reason: str, actor: Actor, token: str | None = None
) -> InventoryEvent:
    """A staff member's manual adjustment by ``quantity`` (signed), audited.

    Refused, writing nothing, when it would take a SKU that does not allow
    oversell below zero."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(str(MSG_REASON_REQUIRED))
    with transaction.atomic(durable=True):
        event = event_record(
            sku_id=sku_id,
            quantity=quantity,
            event_type=EventType.MANUAL_ADJUSTMENT,
            source=EventSource.MANUAL,
            operator=actor.username,
            token=token,
            reason=reason,
        )
        if not event.replayed:
            audit_record(
                actor=actor,
                action=AuditAction.STOCK_ADJUST,
                details={
                    "sku_id": event.sku_id,
                    "quantity": event.quantity,
                    "balance_after": event.balance_after,
                    "reason": reason,
                    "event_id": str(event.event_id),
                },
            )
    return event


def stock_set(
    *,
    sku_id: str,
    target: int,
    event_type: str,
    source: str,
    operator: str,
    token: str | None = None,
    reason: str | None = None,
    store_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    record_zero: bool = False,
) -> InventoryEvent | None:
    """Bring a SKU's stock to ``target`` with one event of the difference.

    Returns None when the stock already is ``target`` (no event needed),
    unless ``record_zero`` asks for an event of 0 (the type must allow it).
    Runs in the caller's transaction; the snapshot row is locked first so
    the difference is computed against the stock it applies to."""
    key = normalize_sku_id(sku_id)
    with transaction.atomic(savepoint=False):
        snapshot = InventorySnapshot.objects.select_for_update().filter(pk=key).first()
        if snapshot is None:
            _sku_for_event(key)
            _ensure_snapshot(key)
            snapshot = InventorySnapshot.objects.select_for_update().get(pk=key)
        difference = target - snapshot.internal_available
        if difference == 0 and not record_zero:
            return None
        return event_record(
            sku_id=key,
            quantity=difference,
            event_type=event_type,
            source=source,
            operator=operator,
            token=token,
            reason=reason,
            store_id=store_id,
            metadata=metadata,
        )


# --- snapshots ----------------------------------------------------------------


def snapshot_rebuild(*, actor: Actor, sku_ids: Iterable[str] | None = None) -> list[Any]:
    """Set every drifted snapshot (or those of ``sku_ids``) to the sum of its
    events, each under its row lock; audited. Returns the drifts repaired."""
    from events.selectors import snapshot_drift

    repaired = []
    with transaction.atomic(durable=True):
        for drift in snapshot_drift(sku_ids=sku_ids):
            _ensure_snapshot(drift.sku_id)
            snapshot = InventorySnapshot.objects.select_for_update().get(pk=drift.sku_id)
            total = (
                InventoryEvent.objects.filter(sku_id=drift.sku_id).aggregate(total=Sum("quantity"))[
                    "total"
                ]
                or 0
            )
            last = (
                InventoryEvent.objects.filter(sku_id=drift.sku_id)
                .order_by("-created_at")
                .values_list("event_id", flat=True)
                .first()
            )
            if snapshot.internal_available == total and snapshot.last_event_id == last:
                continue
            snapshot.internal_available = total
            snapshot.last_event_id = last
            snapshot.updated_at = timezone.now()
            snapshot.save(update_fields=["internal_available", "last_event", "updated_at"])
            outbox_mark(sku_id=drift.sku_id)
            repaired.append(drift)
        if repaired:
            audit_record(
                actor=actor,
                action=AuditAction.SNAPSHOT_REBUILD,
                details={
                    "repaired": [
                        {"sku_id": d.sku_id, "snapshot": d.snapshot, "ledger": d.ledger}
                        for d in repaired[:500]
                    ],
                    "count": len(repaired),
                },
            )
    return repaired


# --- test data ----------------------------------------------------------------


def test_sku_ensure() -> Sku:
    """The test product ce1111 exists, active, in environment ``test``, with a
    snapshot. Idempotent; run after every migrate."""
    from skus.services import sku_create

    # The database refuses ce1111 in any other state, so existing is enough.
    sku = Sku.objects.filter(pk=TEST_SKU_ID).first()
    if sku is None:
        sku = sku_create(
            sku_id="CE1111",
            sku_name="Test product ce1111",
            environment=Sku.Environment.TEST,
            actor=Actor.system("migrate"),
        )
    _ensure_snapshot(TEST_SKU_ID)
    return sku


def test_data_reset(*, actor: Actor, stock: int | None = None) -> list[InventoryEvent]:
    """Put the test environment back in a known state, audited: ce1111 exists
    and holds ``stock`` (INVENTORY_TEST_RESET_STOCK by default), every other
    SKU of environment ``test`` holds 0. Each change is a TEST_RESET event; no
    SKU of environment ``prod`` is read or written."""
    target = settings.INVENTORY_TEST_RESET_STOCK if stock is None else stock
    target = parse_quantity(target, allow_zero=True)
    if target < 0:
        raise InvalidQuantity(str(MSG_QUANTITY_OUT_OF_RANGE), value=target, limit=QUANTITY_LIMIT)
    with transaction.atomic(durable=True):
        test_sku_ensure()
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
