"""RMS's own tasks (order confirmation), and the engine's old task paths.

Tasks already queued, and schedules made before the engine moved to ``sync``, carry
dotted paths under ``rakuten.tasks``: they stay importable for one release (sync
0005 rewrites the schedules' paths on migrate)."""

from __future__ import annotations

from sync.tasks import (  # noqa: F401 - old task paths, kept for queued tasks
    poll_due,
    poll_store,
    push_due,
    push_run_task,
    push_store,
    reconcile_all,
    reconcile_store,
    retry_now,
    sku_sync_all,
    sku_sync_run_task,
    sku_sync_store,
    sweep_all,
)

from .confirmations import orders_confirm, stores_with_due_confirmations


def confirm_store(store_id: str) -> str:
    run = orders_confirm(store_id=store_id)
    return f"{run.status} {run.counts}"


def confirm_due() -> list[str]:
    """Old path of the confirmation schedule: queue every store with due confirmations."""
    from django_q.tasks import async_task

    stores = stores_with_due_confirmations()
    for store_id in stores:
        async_task("rakuten.tasks.confirm_store", store_id)
    return stores
