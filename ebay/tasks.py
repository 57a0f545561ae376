"""django-q2 entry points of eBay's own runs."""

from __future__ import annotations

from sync.models import SyncRun

from .catalog import catalog_run


def catalog_run_task(run_id: int) -> str:
    """A catalogue read a person started (its run row exists already)."""
    run = SyncRun.objects.select_related("store").get(pk=run_id)
    done = catalog_run(store_id=run.store_id, part=run.details.get("part", "inventory"), run=run)
    return f"{done.status} {done.counts}"
