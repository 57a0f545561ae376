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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events import ledger
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
    PendingPush,
)
from inventory_site.errors import InventoryError
from skus.models import Sku, SkuComponent, normalize_sku_id

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
MSG_REASON_TOO_LONG = _("The reason is longer than %(limit)d characters.")
REASON_MAX_LENGTH = 1000
MSG_UNKNOWN_EVENT_TYPE = _("Unknown event type “%(value)s”.")
MSG_UNKNOWN_SOURCE = _("Unknown event source “%(value)s”.")
MSG_SET_HAS_NO_STOCK = _(
    "“%(sku_id)s” is a set: it has no stock of its own, it sells what its components "
    "allow. Change the components' stock instead."
)


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


class SetHasNoStock(LedgerError):
    """A stock change of a set SKU: its stock is its components'."""


def set_refused(sku_id: str) -> SetHasNoStock:
    return SetHasNoStock(str(MSG_SET_HAS_NO_STOCK), sku_id=sku_id)


# --- audit ----------------------------------------------------------------


def audit_record(*, actor: Actor, action: str, details: dict[str, Any] | None = None) -> AuditLog:
    """Append one audit entry. Callers never pass credentials in ``details``."""
    return AuditLog.objects.create(
        user=actor.username, action=action, details=details or {}, ip=actor.ip
    )


def fields_assign(instance: Any, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``changes`` on ``instance`` (text stripped); return the fields that
    really changed as ``{field: [before, after]}``, the shape audit entries use."""
    diff = {}
    for field, value in changes.items():
        before = getattr(instance, field)
        setattr(instance, field, value.strip() if isinstance(value, str) else value)
        if getattr(instance, field) != before:
            diff[field] = [before, getattr(instance, field)]
    return diff


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


def _refuse_unknown_sku(sku_id: object) -> UnknownSku:
    return UnknownSku(str(MSG_UNKNOWN_SKU), sku_id=str(sku_id)[:60])


# Once: the enums' ``values`` build a new list on every use (the hot path).
_EVENT_TYPES = tuple(EventType.values)
_EVENT_SOURCES = tuple(EventSource.values)

# Kept for callers outside the ledger; the hot path is in events.ledger.
outbox_mark = ledger.outbox_mark
_ensure_snapshot = ledger.ensure_snapshot


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
    if event_type not in _EVENT_TYPES:
        raise LedgerError(str(MSG_UNKNOWN_EVENT_TYPE), value=event_type)
    if source not in _EVENT_SOURCES:
        raise LedgerError(str(MSG_UNKNOWN_SOURCE), value=source)
    amount = parse_quantity(quantity, allow_zero=event_type in ZERO_QUANTITY_EVENT_TYPES)
    token = token if token is not None else uuid.uuid4().hex
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LedgerError(str(MSG_TOKEN_INVALID))
    try:
        key = normalize_sku_id(sku_id)
    except ValidationError as exc:  # such an id cannot exist
        raise _refuse_unknown_sku(sku_id) from exc

    values = {
        "event_type": event_type,
        "source": source,
        "operator": operator[:100],
        "token": token,
        "store_id": store_id,
        "order_id": order_id,
        "platform_status": platform_status,
        "reason": reason,
        "metadata": metadata or {},
    }
    is_order = event_type in ORDER_EVENT_TYPES
    nested = connection.in_atomic_block
    for _attempt in range(2):
        try:
            with ledger.write_transaction():
                event = ledger.apply(sku_id=key, amount=amount, is_order=is_order, values=values)
        except IntegrityError:
            # Two writers raced with one token: the other one's event stands.
            existing = None if nested else InventoryEvent.objects.filter(token=token).first()
            if existing is None:
                raise
            return _replayed(existing, sku_id=key, quantity=amount, event_type=event_type)
        if event is not None:
            break
        # Nothing was written: find out why (the rare path).
        found = ledger.lookup(sku_id=key, token=token, store_id=store_id)
        if found is None:
            raise _refuse_unknown_sku(key)
        if store_id is not None and not found.store_exists:
            raise UnknownStore(str(MSG_UNKNOWN_STORE), store_id=store_id)
        if found.existing_event_id is None and found.is_set:
            raise set_refused(key)
        if found.existing_event_id is not None:
            existing = InventoryEvent.objects.get(token=token)
            return _replayed(existing, sku_id=key, quantity=amount, event_type=event_type)
        snapshot = InventorySnapshot.objects.filter(pk=key).first()
        if snapshot is None:
            ledger.ensure_snapshot(key)
            continue
        raise OversellRefused(
            str(MSG_OVERSELL_REFUSED),
            sku_id=key,
            available=snapshot.internal_available,
            result=snapshot.internal_available + amount,
        )
    if event.oversold:
        logger.warning("oversell: %s now %d after %s", key, event.balance_after, event_type)
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
    if len(reason) > REASON_MAX_LENGTH:
        raise LedgerError(str(MSG_REASON_TOO_LONG % {"limit": REASON_MAX_LENGTH}))
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
        if SkuComponent.objects.filter(set_id=key).exists():
            raise set_refused(key)
        snapshot = InventorySnapshot.objects.select_for_update().filter(pk=key).first()
        if snapshot is None:
            if not Sku.objects.filter(pk=key).exists():
                raise _refuse_unknown_sku(key)
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


def stock_set_many(
    *,
    targets: list[tuple[str, int, str]],
    event_type: str,
    source: str,
    operator: str,
    reason: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[InventoryEvent]:
    """Bring many SKUs to their target stock at once: [(sku_id, target, token)].

    The bulk path of `stock_set` for imports: the snapshots are locked in id
    order, one event of the difference per SKU whose stock changes is inserted
    with `bulk_create`, the snapshots are updated and the outbox marked, all in
    the caller's transaction. Tokens are unique, so the same batch cannot be
    applied twice. Returns the events written."""
    now = timezone.now()
    by_sku = {normalize_sku_id(sku_id): (target, token) for sku_id, target, token in targets}
    keys = sorted(by_sku)
    events: list[InventoryEvent] = []
    with transaction.atomic(savepoint=False):
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            a_set = SkuComponent.objects.filter(set_id__in=chunk).values_list("set_id", flat=True)
            for set_id in a_set[:1]:
                raise set_refused(set_id)
            locked = dict(
                InventorySnapshot.objects.select_for_update()
                .filter(sku_id__in=chunk)
                .order_by("sku_id")
                .values_list("sku_id", "internal_available")
            )
            for key in chunk:
                available = locked.get(key)
                if available is None:
                    raise _refuse_unknown_sku(key)
                target, token = by_sku[key]
                if target < 0:
                    raise OversellRefused(
                        str(MSG_OVERSELL_REFUSED), sku_id=key, available=available, result=target
                    )
                if target == available:
                    continue
                events.append(
                    InventoryEvent(
                        event_type=event_type,
                        sku_id=key,
                        quantity=target - available,
                        balance_after=target,
                        oversold=False,
                        operator=operator[:100],
                        reason=reason,
                        source=source,
                        token=token,
                        metadata=metadata or {},
                        created_at=now,
                    )
                )
        ledger.events_insert(events)
        ledger.bulk_update_rows(
            InventorySnapshot,
            ["internal_available", "last_event", "updated_at"],
            [(e.sku_id, e.balance_after, e.event_id, now) for e in events],
        )
        ledger.outbox_mark_many([event.sku_id for event in events])
    return events


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


def failed_retry(
    *,
    store_id: str | None = None,
    sku_ids: Iterable[str] | None = None,
    ids: Iterable[int] | None = None,
) -> int:
    """Failed pushes back to pending, due now, attempts from zero."""
    rows = PendingPush.objects.filter(status=PendingPush.Status.FAILED)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if store_id:
        rows = rows.filter(store_id=store_id)
    if sku_ids is not None:
        rows = rows.filter(sku_id__in=[s.lower() for s in sku_ids])
    return rows.update(
        status=PendingPush.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )


# --- ledger check ---------------------------------------------------------------------


def ledger_check_run(*, actor: Actor) -> Any:
    """Compare every SKU's snapshot with the sum of its events and store the result as a
    ``LedgerCheck`` (the reconciliation page shows the newest). Reads only: nothing is
    repaired here (``rebuild_snapshots --fix`` does that). The whole comparison is one
    statement, so it sees one moment of the ledger; a failure is stored too, then raised."""
    import time

    from events.models import LEDGER_CHECK_DRIFT_KEPT, LedgerCheck
    from events.selectors import snapshot_drift_scan

    started_at = timezone.now()
    clock = time.monotonic()
    check = LedgerCheck(started_at=started_at, requested_by=actor.username)
    try:
        checked, drifts = snapshot_drift_scan()
    except Exception as exc:
        check.status = LedgerCheck.Status.FAILED
        check.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    else:
        check.status = LedgerCheck.Status.DRIFT if drifts else LedgerCheck.Status.OK
        check.skus_checked = checked
        check.drift_count = len(drifts)
        check.drift = [
            {"sku_id": d.sku_id, "snapshot": d.snapshot, "ledger": d.ledger}
            for d in drifts[:LEDGER_CHECK_DRIFT_KEPT]
        ]
    finally:
        check.finished_at = timezone.now()
        check.duration_ms = round((time.monotonic() - clock) * 1000)
        check.full_clean()
        check.save(force_insert=True)
        if drifts := check.drift_count:
            logger.warning("ledger check: %d SKUs drift from the sum of their events", drifts)
    return check


def ledger_check_request(*, actor: Actor) -> None:
    """Staff's "check now": audited at once; the check runs as a django-q2 task after
    commit (it reads the whole ledger, so never inside a request)."""
    from django_q.tasks import async_task

    with transaction.atomic(durable=True):
        audit_record(actor=actor, action=AuditAction.LEDGER_CHECK, details={})
        transaction.on_commit(
            lambda: async_task(
                "events.tasks.ledger_check", actor.username, task_name="ledger check"
            )
        )
