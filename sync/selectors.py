"""Reads for the staff pages: store health for the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from events.models import InventoryEvent, PendingPush
from stores.models import Store

from .adapters import AccountState
from .models import OrderLine, QuarantinedOrder, SyncRun
from .registry import platforms, store_account

LICENCE_WARNING = dt.timedelta(days=14)


@dataclass
class StoreHealth:
    store: Store
    last_poll: SyncRun | None
    last_push: SyncRun | None
    pending_pushes: int
    failed_pushes: int
    failed_confirmations: int
    unmatched_lines: int
    drift: int | None
    repaired: int = 0
    quarantined: int = 0
    # A platform account connected in a browser (eBay), when the store has one.
    account: AccountState | None = None

    @property
    def licence_warning(self) -> bool:
        expires = self.store.license_expires_at
        return expires is not None and expires - timezone.now() <= LICENCE_WARNING


def latest_runs(kind: str, store_ids: list[str]) -> dict[str, SyncRun]:
    """The newest run of a kind per store (DISTINCT ON where the database has it)."""
    runs = SyncRun.objects.filter(kind=kind).exclude(status=SyncRun.Status.SKIPPED)
    if connection.features.can_distinct_on_fields:
        newest = runs.order_by("store_id", "-started_at").distinct("store_id")
        return {run.store_id: run for run in newest}
    found = {}
    for store_id in store_ids:
        run = runs.filter(store_id=store_id).order_by("-started_at").first()
        if run is not None:
            found[store_id] = run
    return found


def store_health() -> list[StoreHealth]:
    pushes = {
        row["store_id"]: row
        for row in PendingPush.objects.values("store_id").annotate(
            pending=Count("id", filter=~Q(status=PendingPush.Status.FAILED)),
            failed=Count("id", filter=Q(status=PendingPush.Status.FAILED)),
        )
    }
    confirmations: dict[str, int] = {}
    for platform in platforms().values():
        for store_id, count in (
            platform.followups_failed()
            .values("store_id")
            .annotate(n=Count("pk"))
            .values_list("store_id", "n")
        ):
            confirmations[store_id] = confirmations.get(store_id, 0) + count
    unmatched = dict(
        OrderLine.objects.filter(sku__isnull=True)
        .values("order__store_id")
        .annotate(n=Count("id"))
        .values_list("order__store_id", "n")
    )
    quarantined = dict(
        QuarantinedOrder.objects.filter(status=QuarantinedOrder.Status.OPEN)
        .values("store_id")
        .annotate(n=Count("id"))
        .values_list("store_id", "n")
    )
    stores = list(Store.objects.order_by("store_id"))
    ids = [store.store_id for store in stores]
    polls, push_runs = latest_runs("poll", ids), latest_runs("push", ids)
    reconciles = latest_runs("reconcile", ids)
    return [
        StoreHealth(
            store=store,
            last_poll=polls.get(store.store_id),
            last_push=push_runs.get(store.store_id),
            pending_pushes=pushes.get(store.store_id, {}).get("pending", 0),
            failed_pushes=pushes.get(store.store_id, {}).get("failed", 0),
            failed_confirmations=confirmations.get(store.store_id, 0),
            unmatched_lines=unmatched.get(store.store_id, 0),
            quarantined=quarantined.get(store.store_id, 0),
            repaired=reconciles[store.store_id].counts.get("repaired", 0)
            if store.store_id in reconciles
            else 0,
            drift=reconciles[store.store_id].counts.get("drift")
            if store.store_id in reconciles
            else None,
            account=store_account(store),
        )
        for store in stores
    ]


def oversell_count() -> int:
    return InventoryEvent.objects.filter(oversold=True).count()


def store_rows() -> QuerySet[Store]:
    """Every store with how many SKUs it has registered, for the store list."""
    return Store.objects.annotate(registered=Count("registrations")).order_by("store_id")
