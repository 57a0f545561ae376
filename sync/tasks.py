"""django-q2 entry points: load by id, call one service, chain the next step.

Every platform's stores go through the same tasks; a store's adapter does the talking.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_q.tasks import async_task

from events.actors import Actor
from stores.models import Store
from stores.services import allocation_edges_apply

from .catalog import reconcile_run, sku_sync_run
from .models import PollState, SyncRun
from .orders import orders_poll
from .push import push_run, stores_with_due_pushes
from .registry import adapter_class, platforms


def _active_stores() -> list[Store]:
    return list(
        Store.objects.filter(
            status=Store.Status.ACTIVE, platform_type__in=list(settings.INVENTORY_PLATFORMS)
        )
    )


def poll_interval(store: Store) -> dt.timedelta:
    default = settings.SYNC_POLL_INTERVAL_MINUTES
    try:
        minutes = int(store.api_config.get("poll_interval_minutes") or default)
    except (TypeError, ValueError):
        minutes = default
    return dt.timedelta(minutes=max(1, minutes))


def poll_due() -> list[str]:
    """Every minute: start a poll of each store whose interval has passed."""
    now = timezone.now()
    last = dict(PollState.objects.values_list("store_id", "last_poll_at"))
    due = []
    for store in _active_stores():
        polled = last.get(store.store_id)
        # 20 s of slack: the scheduler fires about once a minute, not on the second.
        if polled is None or now - polled >= poll_interval(store) - dt.timedelta(seconds=20):
            async_task("sync.tasks.poll_store", store.store_id, task_name=f"poll {store.store_id}")
            due.append(store.store_id)
    return due


def poll_store(store_id: str, sweep: bool = False) -> str:
    run = orders_poll(store_id=store_id, sweep=sweep)
    if run.counts.get("events"):
        # An order here lowers the stock shown everywhere else: push now, not in a minute.
        push_due()
    platform = Store.objects.filter(pk=store_id).values_list("platform_type", flat=True).first()
    if platform:
        adapter_class(platform).followups_start(store_id)
    return f"{run.status} {run.counts}"


def push_due() -> list[str]:
    """Every minute (and after a poll that recorded orders): push each store with due rows,
    after making due what an allocation rule's period starting or ending changes."""
    allocation_edges_apply()
    stores = stores_with_due_pushes()
    for store_id in stores:
        async_task("sync.tasks.push_store", store_id, task_name=f"push {store_id}")
    return stores


def push_store(store_id: str) -> str:
    run = push_run(store_id=store_id)
    return f"{run.status} {run.counts}"


def followups_due() -> list[str]:
    """Every minute: each platform's own follow-up work that is due (RMS: confirmations)."""
    started = []
    for platform in platforms().values():
        started += platform.followups_start()
    return started


def sweep_all() -> list[str]:
    """Nightly: re-read the whole lookback of every store (changes after shipping)."""
    stores = [store.store_id for store in _active_stores()]
    for store_id in stores:
        async_task("sync.tasks.poll_store", store_id, True)
    return stores


def sku_sync_all() -> list[str]:
    stores = [store.store_id for store in _active_stores()]
    for store_id in stores:
        async_task("sync.tasks.sku_sync_store", store_id)
    return stores


def sku_sync_store(store_id: str) -> str:
    run = sku_sync_run(store_id=store_id, actor=Actor.system("sku-sync"))
    return f"{run.status} {run.counts}"


def reconcile_all() -> list[str]:
    stores = [store.store_id for store in _active_stores()]
    for store_id in stores:
        async_task("sync.tasks.reconcile_store", store_id)
    return stores


def reconcile_store(store_id: str) -> str:
    run = reconcile_run(store_id=store_id)
    return f"{run.status} {run.counts}"


def sku_sync_run_task(run_id: int, username: str) -> str:
    """A SKU sync a person started from the store page (its run row exists already)."""
    run = SyncRun.objects.get(pk=run_id)
    result = sku_sync_run(store_id=run.store_id, actor=Actor.system(username), run=run)
    return f"{result.status} {result.counts}"


def push_run_task(run_id: int) -> str:
    """A push a person started from the store page (its run row exists already)."""
    run = SyncRun.objects.get(pk=run_id)
    result = push_run(store_id=run.store_id, operator=run.operator, run=run)
    return f"{result.status} {result.counts}"


def retry_now() -> str:
    """After staff retried failed syncs: push and follow up what is due without waiting."""
    return f"push {push_due()}, follow-ups {followups_due()}"
