"""django-q2 entry points of the import app."""

from __future__ import annotations

from .services import import_confirm_run


def import_confirm_task(run_id: int) -> str:
    """A confirm a person started from the preview page (its run row exists already)."""
    run = import_confirm_run(run_id=run_id)
    return f"{run.status} {run.counts}"
