"""Runs: one row per job run, its counts and log lines, and the one way a job runs.

``run_job`` is the only place that takes a store's lease for a job, records a run
that found the store busy as ``skipped``, and makes sure a run that raises ends
``failed`` with the reason (a platform error is expected and ends the run; anything
else ends it and is raised again for the task's log).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from .errors import PlatformError
from .leases import job_lease
from .models import SyncRun

logger = logging.getLogger("sync.runs")

MSG_BUSY = _("Another run holds this store; nothing was done.")


@dataclass
class RunLog:
    """Counts and log lines of a run, written to its row at the end (and between pages)."""

    run: SyncRun
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: list[str] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def say(self, message: str, *args: Any) -> None:
        text = message % args if args else message
        self.lines.append(f"{timezone.now():%H:%M:%S} {text}")
        logger.info("%s %s: %s", self.run.kind, self.run.store_id, text)

    def save(self, **fields: Any) -> None:
        self.run.counts = dict(self.counts)
        self.run.log = "\n".join(self.lines[-500:])
        for name, value in fields.items():
            setattr(self.run, name, value)
        self.run.save()

    def finish(self, status: str, error: str = "") -> SyncRun:
        self.save(status=status, error=error[:2000], finished_at=timezone.now())
        return self.run

    def cancelled(self) -> bool:
        return SyncRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists()


def run_start(store: Store, kind: str, operator: str = "system") -> RunLog:
    return RunLog(SyncRun.objects.create(store=store, kind=kind, operator=operator))


def run_skipped(store: Store, kind: str, operator: str = "system") -> SyncRun:
    return SyncRun.objects.create(
        store=store,
        kind=kind,
        operator=operator,
        status=SyncRun.Status.SKIPPED,
        finished_at=timezone.now(),
        error=str(MSG_BUSY),
    )


def run_job(
    *,
    store: Store,
    kind: str,
    work: Callable[[RunLog], SyncRun],
    operator: str = "system",
    run: SyncRun | None = None,
) -> SyncRun:
    """Run ``work`` as the only ``kind`` job of the store; ``run`` is the row a person's
    page already follows (else one is made). ``work`` returns ``log.finish(...)``."""
    with job_lease(f"{kind}:{store.store_id}") as token:
        if token is None:
            if run is not None:
                return RunLog(run).finish(SyncRun.Status.SKIPPED, str(MSG_BUSY))
            return run_skipped(store, kind, operator)
        log = RunLog(run) if run is not None else run_start(store, kind, operator)
        try:
            return work(log)
        except PlatformError as exc:
            log.say("stopped: %s", exc)
            return log.finish(SyncRun.Status.FAILED, str(exc))
        except Exception as exc:
            log.finish(SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
            raise
