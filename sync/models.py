"""The engine's own state: job leases, poll cursors, runs."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class JobLease(models.Model):
    """A lease per job key ("poll:demo-tokyo"): at most one holder until it expires.

    Taken and given back with short UPDATEs, so no transaction stays open across
    calls to a platform (SQLite would block every other writer meanwhile)."""

    key = models.CharField(_("job"), max_length=120, primary_key=True)
    holder = models.CharField(_("holder"), max_length=64, blank=True, default="")
    acquired_at = models.DateTimeField(_("acquired at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), default=timezone.now)

    class Meta:
        db_table = "sync_job_lease"
        verbose_name = _("job lease")
        verbose_name_plural = _("job leases")

    def __str__(self) -> str:
        return f"{self.key} ({self.holder or gettext('free')})"


class PollState(models.Model):
    store = models.OneToOneField(
        "stores.Store",
        on_delete=models.PROTECT,
        primary_key=True,
        db_column="store_id",
        verbose_name=_("store"),
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
        if self.cursor is None:
            return gettext("%(store)s, not searched yet") % {"store": self.store_id}
        return gettext("%(store)s, searched up to %(time)s") % {
            "store": self.store_id,
            "time": f"{timezone.localtime(self.cursor):%Y-%m-%d %H:%M}",
        }


class SyncRun(models.Model):
    """One run of a job, with counts and log lines the UI shows; cancellable between pages."""

    class Kind(models.TextChoices):
        POLL = "poll", _("order poll")
        PUSH = "push", _("stock push")
        CONFIRM = "confirm", _("order confirmation")
        SKU_SYNC = "sku_sync", _("SKU sync")
        RECONCILE = "reconcile", _("reconcile")
        IMPORT = "import", _("stock import")
        # A platform's own reading of its catalogue into its tables (eBay inventory, offers).
        CATALOG = "catalog", _("catalogue read")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        PARTIAL = "partial", _("partial")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        SKIPPED = "skipped", _("skipped (another run holds the store)")
        # Its worker stopped (killed, machine lost) and another run took the store over.
        INTERRUPTED = "interrupted", _("interrupted (its worker stopped)")

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="sync_runs",
        db_column="store_id",
        verbose_name=_("store"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    log = models.TextField(_("log"), blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # The lease its worker holds while it runs (empty: not started by a worker yet).
    lease_key = models.CharField(_("lease key"), max_length=120, blank=True, default="")
    lease_token = models.CharField(_("lease token"), max_length=64, blank=True, default="")
    operator = models.CharField(_("operator"), max_length=100, default="system")

    class Meta:
        db_table = "sync_runs"
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]
        permissions = [("run_sync", _("Can poll orders, sync SKUs, push and retry"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "poll",
                        "push",
                        "confirm",
                        "sku_sync",
                        "reconcile",
                        "import",
                        "catalog",
                    ]
                ),
                name="sync_runs_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "running",
                        "succeeded",
                        "partial",
                        "failed",
                        "cancelled",
                        "skipped",
                        "interrupted",
                    ]
                ),
                name="sync_runs_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "kind", "-started_at"], name="sync_runs_recent"),
            # The admin's newest-first list of runs.
            models.Index(fields=["started_at", "id"], name="sync_runs_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.store_id} {self.get_status_display()}"

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
        """The counts in words, in the reader's language ("3 orders found, …")."""
        from .run_text import counts_sentence

        return counts_sentence(self.kind, self.counts)


class RunEvent(models.Model):
    """One line of a run's live log, in order (``seq`` from 1): appended while the run works,
    never changed; the run page streams them (Server-Sent Events, resumed by ``seq``)."""

    class Level(models.TextChoices):
        INFO = "info", _("info")
        WARNING = "warning", _("warning")
        ERROR = "error", _("error")

    run = models.ForeignKey(
        SyncRun, on_delete=models.CASCADE, related_name="events", verbose_name=_("sync run")
    )
    seq = models.PositiveIntegerField(_("line number"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.TextField(_("message"))
    # The line as written, to be read in the reader's language: the English msgid and its
    # values (a list for %s, a mapping for %(name)s). ``message`` is it in English, for
    # the logs; a line written before these fields has only ``message``.
    template = models.TextField(_("message template"), blank=True, default="")
    params = models.JSONField(_("message values"), blank=True, default=dict)

    class Meta:
        db_table = "sync_run_events"
        verbose_name = _("run log line")
        verbose_name_plural = _("run log lines")
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="sync_run_events_run_seq_key"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.message[:60]}"

    @property
    def text(self) -> str:
        """The line in the active language (``message`` when it cannot be)."""
        from .run_text import line_text

        return line_text(self.template, self.params, self.message)


class Order(models.Model):
    """An order as its store shows it now (any platform), as its adapter's
    ``OrderSnapshot`` said. ``final``: shipped, paid or cancelled; no longer re-read on
    every poll, only by the sweep."""

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="orders",
        db_column="store_id",
        verbose_name=_("store"),
    )
    order_number = models.CharField(_("order number"), max_length=100)
    platform_status = models.CharField(_("status on the platform"), max_length=32)
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True)
    final = models.BooleanField(_("final"), default=False)
    # Every line takes 0 units.
    cancelled = models.BooleanField(_("cancelled"), default=False)
    # The merchant accepted it: ORDER_CONFIRMED is recorded once per SKU.
    confirmed = models.BooleanField(_("confirmed"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    # When a poll last read it from the platform (applied or found unchanged).
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    # What it held when last applied (``sync.orders.snapshot_digest``): a poll that reads
    # the same again leaves the order and the ledger alone.
    digest = models.CharField(_("digest"), max_length=32, blank=True, default="")

    class Meta:
        db_table = "sync_orders"
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="sync_orders_store_number_key"
            ),
        ]
        indexes = [
            models.Index(fields=["store", "final"], name="sync_orders_open"),
            # The admin's newest-first list, and a search by the beginning of a number.
            models.Index(fields=["ordered_at", "id"], name="sync_orders_recent"),
            models.Index(
                fields=["order_number"],
                name="sync_orders_number",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.order_number} ({self.platform_status})"


class OrderLine(models.Model):
    """An order line as the store shows it now; ``sku`` is empty while it matches no SKU.

    ``listing`` holds the platform's keys of what was sold (its binder matches them to a
    SKU); ``listing_label`` is their short form for staff."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    position = models.PositiveSmallIntegerField(_("line number"))
    # The platform's id of the line, when it has one (RMS itemDetailId).
    line_id = models.CharField(_("line id"), max_length=64, blank=True, default="")
    listing = models.JSONField(_("listing"), default=dict)
    listing_label = models.CharField(_("listing"), max_length=200, blank=True, default="")
    units = models.PositiveIntegerField(_("units"))
    deleted = models.BooleanField(_("deleted"), default=False)
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_column="sku_id",
        verbose_name=_("SKU"),
    )
    # When ``sku`` is a set: its components as they were when the line first matched it
    # ({component id: quantity per set}), so a later change of the set's recipe never
    # moves the stock of an order already taken.
    components = models.JSONField(_("set components"), null=True, blank=True)

    class Meta:
        db_table = "sync_order_lines"
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "position"], name="sync_order_lines_position_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["sku"], condition=Q(sku__isnull=True), name="sync_order_lines_unmatched"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.order_number} #{self.position} {self.listing_label} x{self.units}"


class OrderSkuState(models.Model):
    """How many units of a SKU the ledger has taken for an order (net of its ORDER_* events)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="sku_states", verbose_name=_("order")
    )
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="sku_id",
        verbose_name=_("SKU"),
    )
    taken = models.IntegerField(_("units taken"), default=0)
    events = models.PositiveIntegerField(_("events recorded"), default=0)
    confirmed_recorded = models.BooleanField(_("confirmation recorded"), default=False)

    class Meta:
        db_table = "sync_order_sku_state"
        verbose_name = _("order SKU state")
        verbose_name_plural = _("order SKU states")
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="sync_order_sku_state_key")
        ]

    def __str__(self) -> str:
        return gettext("order %(order)s, SKU %(sku)s: %(taken)d taken") % {
            "order": self.order_id,
            "sku": self.sku_id,
            "taken": self.taken,
        }


class QuarantinedOrder(models.Model):
    """An order the engine could not apply (a quantity out of range, a shape it cannot
    read): set aside with its reason while the poll goes on with the other orders. Open
    ones are read again on every poll of the store and leave quarantine once they apply;
    staff can dismiss one (it is then never read again)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("applied since")
        DISMISSED = "dismissed", _("dismissed")

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    order_number = models.CharField(_("order number"), max_length=200)
    reason = models.TextField(_("reason"))
    snapshot = models.JSONField(
        _("what the platform sent"), default=dict, encoder=DjangoJSONEncoder
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=100, blank=True, default="")

    class Meta:
        db_table = "sync_quarantined_orders"
        verbose_name = _("quarantined order")
        verbose_name_plural = _("quarantined orders")
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="sync_quarantined_orders_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved", "dismissed"]),
                name="sync_quarantined_orders_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "store"], name="sync_quarantine_open")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.order_number} ({self.get_status_display()})"
