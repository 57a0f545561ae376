"""What an operator runs around a backup restore (`manage.py verify_ledger`).

``ledger_verify`` reads only: every SKU's snapshot against the sum of its events, and the
outbox against the registrations and the push leases. ``restore_read_back_first`` prepares
a restored database before the workers start again: a backup holds the stock of its own
time, so no store may be told it blindly. Every registration of every active store gets an
outbox row that reads the store's stock back before writing (``verify_after``, the engine's
read-back of uncertain writes, sync/push.py ``_verify``): a store already showing our
quantity is settled without a write, the others are told ours. The rows wait ``hold`` first,
so that the first poll of each store (due at once: the restored cursor is as old as the
backup) records the orders placed since the backup before anything is pushed; an order it
records makes its SKU's row due at once (and it still reads back first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from events.actors import Actor
from events.ledger import outbox_mark_store
from events.models import AuditAction, PendingPush
from events.selectors import Drift, snapshot_drift_scan
from events.services import audit_record
from stores.models import Store, StoreSku
from sync.models import JobLease, SyncRun

NO_REGISTRATION = "its SKU is not registered in the store"
NO_LIVE_LEASE = "in progress, but no push of the store holds a lease"
AFTER_RESTORE = "after a restore: read back before writing"


@dataclass(frozen=True)
class OutboxProblem:
    store_id: str
    sku_id: str
    status: str
    reason: str


@dataclass(frozen=True)
class LedgerVerdict:
    skus_checked: int
    drifts: list[Drift]
    outbox_rows: int
    outbox_problems: list[OutboxProblem]

    @property
    def ok(self) -> bool:
        return not self.drifts and not self.outbox_problems


def ledger_verify(*, now: dt.datetime | None = None) -> LedgerVerdict:
    """Snapshot == sum(events) for every SKU; no outbox row for a (store, SKU) that is not
    registered; no row in progress unless a push of its store holds a live lease (one
    statement, so a push that ends meanwhile is not mistaken for a dead one)."""
    now = now or timezone.now()
    checked, drifts = snapshot_drift_scan()
    registered = StoreSku.objects.filter(store_id=OuterRef("store_id"), sku_id=OuterRef("sku_id"))
    live_lease = JobLease.objects.filter(
        key=Concat(
            Value(f"{SyncRun.Kind.PUSH.value}:"), OuterRef("store_id"), output_field=CharField()
        ),
        expires_at__gt=now,
    ).exclude(holder="")
    rows = (
        PendingPush.objects.annotate(registered=Exists(registered), leased=Exists(live_lease))
        .filter(Q(registered=False) | Q(status=PendingPush.Status.IN_PROGRESS, leased=False))
        .order_by("store_id", "sku_id")
        .values_list("store_id", "sku_id", "status", "registered")
    )
    problems = [
        OutboxProblem(
            store_id=store_id,
            sku_id=sku_id,
            status=status,
            reason=NO_REGISTRATION if not registered else NO_LIVE_LEASE,
        )
        for store_id, sku_id, status, registered in rows
    ]
    return LedgerVerdict(
        skus_checked=checked,
        drifts=drifts,
        outbox_rows=PendingPush.objects.count(),
        outbox_problems=problems,
    )


@dataclass
class RestorePrepared:
    released: int  # rows a push had in progress when the backup was taken
    retried_failed: int  # failed rows of active stores, due again (read back first)
    read_back: dict[str, int] = field(default_factory=dict)  # store -> rows reading back
    due_at: dt.datetime | None = None


def restore_read_back_first(
    *, actor: Actor, hold: dt.timedelta, now: dt.datetime | None = None
) -> RestorePrepared:
    """Every registration of every active store due at ``now + hold``, reading the store's
    stock back before writing; rows a push had in progress at backup time are pending
    again. Run with the workers stopped. One transaction; running it twice changes nothing
    more than the times."""
    now = now or timezone.now()
    due_at = now + hold
    with transaction.atomic(durable=True):
        stores = list(
            Store.objects.filter(status=Store.Status.ACTIVE)
            .order_by("store_id")
            .values_list("store_id", flat=True)
        )
        released = PendingPush.objects.filter(status=PendingPush.Status.IN_PROGRESS).update(
            status=PendingPush.Status.PENDING, updated_at=now
        )
        retried = PendingPush.objects.filter(
            status=PendingPush.Status.FAILED, store_id__in=stores
        ).count()
        prepared = RestorePrepared(released=released, retried_failed=retried, due_at=due_at)
        for store_id in stores:
            outbox_mark_store(store_id=store_id)
            marked = PendingPush.objects.filter(
                store_id=store_id, status=PendingPush.Status.PENDING
            ).update(verify_after=now, next_attempt_at=due_at, updated_at=now)
            prepared.read_back[store_id] = marked
            audit_record(
                actor=actor,
                action=AuditAction.PUSH_ALL,
                details={"store_id": store_id, "skus": marked, "reason": AFTER_RESTORE},
            )
    return prepared
