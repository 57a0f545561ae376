"""The engine's writes that are neither polls nor pushes: the auth test of a store, a
reconcile staff ask for, and staff's decisions on quarantined orders."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record
from stores.models import Store

from .errors import PlatformError
from .models import QuarantinedOrder
from .orders import poll_start
from .registry import adapter_for


def store_auth_test(*, store_id: str) -> tuple[bool, str]:
    """Ask the store's platform whether it accepts the credentials (the seed's
    auth-test); keep the answer (and, where the platform says, when they expire)."""
    store = Store.objects.get(pk=store_id)
    now = timezone.now()
    try:
        result = adapter_for(store).auth_test()
    except PlatformError as exc:
        message = str(exc)
        Store.objects.filter(pk=store_id).update(
            last_auth_test_at=now, last_auth_error=message[:2000]
        )
        return False, message
    changes = {"last_auth_test_at": now, "last_auth_error": ""}
    if result.expires_at is not None:
        changes["license_expires_at"] = result.expires_at
    Store.objects.filter(pk=store_id).update(**changes)
    return True, result.message


def reconcile_start(*, store_id: str, actor: Actor) -> None:
    """Staff's "reconcile now": read back the store's stock in a task once this commits
    (the nightly reconcile's own task), audited. The run it makes is the reconciliation
    page's newest for the store."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        audit_record(
            actor=actor, action=AuditAction.RECONCILE, details={"store_id": store.store_id}
        )
        transaction.on_commit(
            lambda: async_task(
                "sync.tasks.reconcile_store", store.store_id, task_name=f"reconcile {store_id}"
            )
        )


def quarantine_dismiss(*, ids: Iterable[int], actor: Actor) -> int:
    """Staff set quarantined orders aside for good (the cause is handled outside
    Inventory Sync): they are never read again. Audited."""
    ids = list(ids)
    with transaction.atomic(durable=True):
        rows = QuarantinedOrder.objects.select_for_update().filter(
            pk__in=ids, status=QuarantinedOrder.Status.OPEN
        )
        orders = list(rows.values_list("store_id", "order_number"))
        count = rows.update(
            status=QuarantinedOrder.Status.DISMISSED,
            closed_at=timezone.now(),
            closed_by=actor.username[:100],
        )
        if count:
            audit_record(
                actor=actor,
                action=AuditAction.QUARANTINE_DISMISS,
                details={"orders": [f"{store}:{number}" for store, number in orders][:500]},
            )
    return count


def quarantine_retry(*, store_id: str, actor: Actor) -> None:
    """Staff fixed the cause: poll the store now (its open quarantined orders are read
    again by every poll, and leave quarantine once they apply)."""
    poll_start(store_id=store_id, actor=actor)
