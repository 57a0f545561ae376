"""Runs: one row per job run, its counts and log lines, and the one way a job runs.

``run_job`` is the only place that takes a store's lease for a job, records a run
that found the store busy as ``skipped``, and makes sure a run that raises ends
``failed`` with the reason (a platform error is expected and ends the run; anything
else ends it and is raised again for the task's log).

While it works, a run renews its lease (``RunLog.beat``, called as it counts its work);
a run whose worker died stops renewing, the next run of that (store, kind) takes the
store over once the lease has run out, and closes the dead run as ``interrupted`` with
what it had done. A task delivered twice never relabels a run another worker holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from .errors import PlatformError
from .leases import job_lease, lease_extend, lease_ttl
from .models import RunEvent, SyncRun
from .run_text import FINISHED_LINE

logger = logging.getLogger("sync.runs")

MSG_BUSY = _("Another run holds this store; nothing was done.")
MSG_INTERRUPTED = _(
    "Its worker stopped before the end (killed or lost); run %(run)s took the store over."
)
MSG_LEASE_LOST = _("Another run took the store over: this one stopped.")
MSG_NO_REASON = _("%(error)s, with no message.")
MSG_TAKEN_OVER = _("Took the store over from interrupted runs (%(count)d).")
MSG_FAILED_SILENTLY = _("The run failed without saying why: see its log.")


def reason_of(exc: BaseException) -> str:
    """An exception as a run's reason: its text, or its kind when it has no text (a failed
    run always says why)."""
    return str(exc).strip() or str(MSG_NO_REASON % {"error": type(exc).__name__})


class LeaseLost(Exception):
    """The run's lease ran out and another run holds the store: stop at once."""


class LeaseKeeper(threading.Thread):
    """Renews a run's lease every quarter of its time while the run works, even through
    a long platform call; it dies with its process, so a killed worker's lease runs out.
    ``lost`` is set when the lease could not be renewed (another run holds the store)."""

    def __init__(self, key: str, token: str) -> None:
        super().__init__(name=f"lease {key}", daemon=True)
        self.key, self.token = key, token
        self.lost = False
        self.done = threading.Event()

    def run(self) -> None:
        interval = max(lease_ttl().total_seconds() / 4, 1.0)
        try:
            while not self.done.wait(interval):
                if not lease_extend(self.key, self.token):
                    self.lost = True
                    return
        finally:
            connection.close()  # this thread's own database connection

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=5)


@dataclass
class RunLog:
    """Counts and log lines of a run, written to its row at the end (and between pages)."""

    run: SyncRun
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: list[str] = field(default_factory=list)
    last_beat: float = field(default_factory=time.monotonic)
    keeper: LeaseKeeper | None = None
    problem: str = ""  # the last warning logged: a failed run's reason when it gives none

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount
        self.beat()

    def beat(self) -> None:
        """Renew the run's lease once a quarter of its time has passed (cheap to call
        often). Raises ``LeaseLost`` when another run took the store over."""
        if not self.run.lease_token:
            return
        if self.keeper is not None and self.keeper.lost:
            raise LeaseLost(str(MSG_LEASE_LOST))
        if time.monotonic() - self.last_beat < lease_ttl().total_seconds() / 4:
            return
        self.last_beat = time.monotonic()
        if not lease_extend(self.run.lease_key, self.run.lease_token):
            raise LeaseLost(str(MSG_LEASE_LOST))

    seq: int | None = None  # the last line of the live log written (read on first use)

    def say(self, message: str | Promise, *args: Any, **values: Any) -> None:
        """Log a line: ``message`` is a lazy translation (or a plain English text) with
        its values by position (``%s``) or by name (``%(name)s``, which a translation may
        reorder); the page shows it in the reader's language."""
        self.emit(RunEvent.Level.INFO, message, list(args) or values)

    def warn(self, message: str | Promise, *args: Any, **values: Any) -> None:
        self.problem = self.emit(RunEvent.Level.WARNING, message, list(args) or values)

    def emit(
        self,
        level: str,
        message: str | Promise,
        values: list[Any] | dict[str, Any] | None = None,
    ) -> str:
        """One line of the live log (the run page streams it at once) and of the run's
        text: kept as its template and values, and as its English text (returned)."""
        template = _msgid(message)
        if isinstance(values, list):
            values = [_plain(value) for value in values]
        else:
            values = {name: _plain(value) for name, value in (values or {}).items()}
        text = template
        if values:
            text = template % (tuple(values) if isinstance(values, list) else values)
        self._write(level, text, template, values)
        return text

    def _write(self, level: str, text: str, template: str, values: list | dict) -> None:
        now = timezone.now()
        self.lines.append(f"{now:%H:%M:%S} {text}")
        logger.log(
            logging.WARNING if level != RunEvent.Level.INFO else logging.INFO,
            "%s %s: %s",
            self.run.kind,
            self.run.store_id,
            text,
        )
        if self.run.pk is None:
            return
        if self.seq is None:
            self.seq = RunEvent.objects.filter(run=self.run).aggregate(m=Max("seq"))["m"] or 0
        self.seq += 1
        RunEvent.objects.create(
            run=self.run,
            seq=self.seq,
            at=now,
            level=level,
            message=text,
            template=template,
            params=values,
        )

    def save(self, **fields: Any) -> None:
        if fields.get("finished_at") is None:
            self.beat()
        self.run.counts = dict(self.counts)
        self.run.log = "\n".join(self.lines[-500:])
        for name, value in fields.items():
            setattr(self.run, name, value)
        if self.run.pk is None:
            self.run.save()
            return
        # Never the whole row: a STOP (cancel_requested) written by a page meanwhile stays.
        self.run.save(update_fields=["counts", "log", "details", *fields])

    def finish(self, status: str, error: str = "") -> SyncRun:
        if status == SyncRun.Status.FAILED and not error.strip():
            # A failed run always says why: the last warning it logged, else that it did not.
            error = self.problem or str(MSG_FAILED_SILENTLY)
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        with translation.override("en"):
            label = str(SyncRun.Status(status).label) if status in SyncRun.Status.values else status
        self._write(
            RunEvent.Level.ERROR if error else RunEvent.Level.INFO,
            f"{label}" + (f" ({counts})" if counts else "") + (f": {error}" if error else ""),
            FINISHED_LINE,
            {"kind": self.run.kind, "status": status, "counts": dict(self.counts), "error": error},
        )
        self.save(status=status, error=error[:2000], finished_at=timezone.now())
        return self.run

    def cancelled(self) -> bool:
        return SyncRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists()


def _msgid(message: str | Promise) -> str:
    """A lazy translation's English msgid (the language the log is kept in); a plain
    string is taken as the msgid it is."""
    if isinstance(message, Promise):
        with translation.override("en"):
            return str(message)
    return message


def _plain(value: Any) -> Any:
    """A log line's value as JSON keeps it: numbers as they are, a time in the site's
    zone (the way the pages write times), anything else as its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{local:%Y-%m-%d %H:%M:%S}"
    return str(value)


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


def _interrupted_close(key: str, taken_by: SyncRun) -> int:
    """Runs that held this lease before and never finished: their worker died."""
    return (
        SyncRun.objects.filter(lease_key=key, status=SyncRun.Status.RUNNING)
        .exclude(pk=taken_by.pk)
        .update(
            status=SyncRun.Status.INTERRUPTED,
            finished_at=timezone.now(),
            error=str(MSG_INTERRUPTED % {"run": taken_by.pk}),
        )
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
    key = f"{kind}:{store.store_id}"
    if run is not None and (run.status != SyncRun.Status.RUNNING or run.lease_token):
        # A task delivered again: the run ended, or a worker holds it. Leave it be.
        return run
    with job_lease(key) as token:
        if token is None:
            if run is not None:
                return RunLog(run).finish(SyncRun.Status.SKIPPED, str(MSG_BUSY))
            return run_skipped(store, kind, operator)
        if run is None:
            run = SyncRun.objects.create(
                store=store, kind=kind, operator=operator, lease_key=key, lease_token=token
            )
        else:
            run.lease_key, run.lease_token = key, token
            run.save(update_fields=["lease_key", "lease_token"])
        keeper = LeaseKeeper(key, token)
        log = RunLog(run, keeper=keeper)
        interrupted = _interrupted_close(key, run)
        if interrupted:
            log.say(MSG_TAKEN_OVER, count=interrupted)
        keeper.start()
        try:
            return work(log)
        except LeaseLost as exc:
            log.say(MSG_LEASE_LOST)
            return log.finish(SyncRun.Status.INTERRUPTED, str(exc))
        except PlatformError as exc:
            log.say(_("Stopped: %(reason)s"), reason=reason_of(exc))
            return log.finish(SyncRun.Status.FAILED, reason_of(exc))
        except Exception as exc:
            text = str(exc).strip()
            log.finish(
                SyncRun.Status.FAILED, f"{type(exc).__name__}: {text}" if text else reason_of(exc)
            )
            raise
        finally:
            keeper.stop()
