"""The engine's own state: job leases, poll cursors, runs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobLease(models.Model):
    """A lease per job key ("poll:demo-tokyo"): at most one holder until it expires.

    Taken and given back with short UPDATEs, so no transaction stays open across
    calls to a platform (SQLite would block every other writer meanwhile)."""

    key = models.CharField(max_length=120, primary_key=True)
    holder = models.CharField(max_length=64, blank=True, default="")
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "sync_job_lease"

    def __str__(self) -> str:
        return f"{self.key} ({self.holder or 'free'})"


class PollState(models.Model):
    store = models.OneToOneField(
        "stores.Store", on_delete=models.PROTECT, primary_key=True, db_column="store_id"
    )
    # Orders placed before the first poll are already in the stock the pool started from.
    origin = models.DateTimeField(_("polling since"), null=True, blank=True)
    # Orders placed up to this time have been searched.
    cursor = models.DateTimeField(_("searched up to"), null=True, blank=True)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_sweep_at = models.DateTimeField(_("last lookback sweep"), null=True, blank=True)

    class Meta:
        db_table = "sync_poll_state"
        verbose_name = _("poll state")
        verbose_name_plural = _("poll states")

    def __str__(self) -> str:
        return f"{self.store_id} up to {self.cursor}"


class SyncRun(models.Model):
    """One run of a job, with counts and log lines the UI shows; cancellable between pages."""

    class Kind(models.TextChoices):
        POLL = "poll", _("order poll")
        PUSH = "push", _("stock push")
        CONFIRM = "confirm", _("order confirmation")
        SKU_SYNC = "sku_sync", _("SKU sync")
        RECONCILE = "reconcile", _("reconcile")
        IMPORT = "import", _("stock import")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        PARTIAL = "partial", _("partial")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        SKIPPED = "skipped", _("skipped (another run holds the store)")

    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="sync_runs", db_column="store_id"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    cancel_requested = models.BooleanField(default=False)
    operator = models.CharField(max_length=100, default="system")

    class Meta:
        db_table = "sync_runs"
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]
        permissions = [("run_sync", _("Can poll orders, sync SKUs, push and retry"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["poll", "push", "confirm", "sku_sync", "reconcile", "import"]
                ),
                name="sync_runs_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["running", "succeeded", "partial", "failed", "cancelled", "skipped"]
                ),
                name="sync_runs_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["store", "kind", "-started_at"], name="sync_runs_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.store_id} {self.status}"

    @property
    def progress_done(self) -> int:
        """Units of work done so far: rows sent for a push, catalogue items for a SKU sync."""
        if self.kind == self.Kind.PUSH:
            return sum(self.counts.get(name, 0) for name in ("pushed", "failed", "deferred"))
        return self.counts.get("items", 0)

    @property
    def percent(self) -> int | None:
        """How far the run is, when its total is known (None: show an indeterminate bar)."""
        if self.finished_at is not None:
            return 100
        total = self.details.get("total")
        if not total:
            return None
        return min(100, round(100 * self.progress_done / total))

    @property
    def counts_text(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in sorted(self.counts.items()))
