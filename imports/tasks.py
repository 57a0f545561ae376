"""django-q2 entry points of the import app."""

from __future__ import annotations

from .services import import_confirm_run, uploads_purge


def import_confirm_task(run_id: int) -> str:
    """A confirm a person started from the preview page (its run row exists already)."""
    run = import_confirm_run(run_id=run_id)
    return f"{run.status} {run.counts}"


def uploads_purge_task() -> str:
    """Nightly: empty the stored text of uploads past the retention period."""
    emptied = uploads_purge()
    return f"{emptied} upload{'' if emptied == 1 else 's'} emptied"
