"""The ledger: append-only events, the snapshot they add up to, the audit
log, and the outbox of stock pushes the events make due."""

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory_site.errors import InventoryError

MSG_LEDGER_IMMUTABLE = _("Ledger events are never changed or deleted; record a new event instead.")
MSG_AUDIT_IMMUTABLE = _("Audit log entries are never changed or deleted.")
# A ledger check keeps this many of the differences it found (and counts them all).
LEDGER_CHECK_DRIFT_KEPT = 500


class LedgerImmutable(InventoryError):
    """Raised by any attempt to update or delete an event or audit entry."""


class AppendOnlyQuerySet(models.QuerySet):
    immutable_message = MSG_LEDGER_IMMUTABLE

    def update(self, **kwargs: Any) -> int:
        raise LedgerImmutable(str(self.immutable_message))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(str(self.immutable_message))

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise LedgerImmutable(str(self.immutable_message))


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed or deleted."""

    immutable_message = MSG_LEDGER_IMMUTABLE

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutable(str(self.immutable_message))
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(str(self.immutable_message))


class EventType(models.TextChoices):
    """Codes are stored in the ledger: never rename or reuse one."""

    INITIAL = "INITIAL", _("initial stock")
    ORDER_RECEIVED = "ORDER_RECEIVED", _("order received")
    ORDER_CONFIRMED = "ORDER_CONFIRMED", _("order confirmed")
    ORDER_MODIFIED = "ORDER_MODIFIED", _("order modified")
    ORDER_CANCELLED = "ORDER_CANCELLED", _("order cancelled")
    MANUAL_ADJUSTMENT = "MANUAL_ADJUSTMENT", _("manual adjustment")
    IMPORT = "IMPORT", _("CSV import")
    TEST_RESET = "TEST_RESET", _("test reset")
    RECEIPT = "RECEIPT", _("purchase arrived")
    RECEIPT_REVERSED = "RECEIPT_REVERSED", _("purchase arrival reversed")


# Orders are facts: always recorded, flagged when they oversell.
ORDER_EVENT_TYPES = frozenset(
    {
        EventType.ORDER_RECEIVED,
        EventType.ORDER_CONFIRMED,
        EventType.ORDER_MODIFIED,
        EventType.ORDER_CANCELLED,
    }
)
# Event types that may carry a zero quantity (a marker, no stock change).
ZERO_QUANTITY_EVENT_TYPES = frozenset({EventType.ORDER_CONFIRMED, EventType.TEST_RESET})


class EventSource(models.TextChoices):
    API = "api", _("platform API")
    MANUAL = "manual", _("manual")
    IMPORT = "import", _("import")
    SYSTEM = "system", _("system")


class EventQuerySet(AppendOnlyQuerySet):
    def for_sku(self, sku_id: str) -> "EventQuerySet":
        return self.filter(sku_id=sku_id)


class InventoryEvent(AppendOnlyModel):
    """One stock change. ``quantity`` is the signed delta; ``token`` makes
    recording idempotent; ``balance_after`` is the SKU's stock once applied."""

    event_id = models.UUIDField(_("event id"), primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("type"), max_length=20, choices=EventType.choices)
    # Indexed by (sku, created_at) and (store, order_id) below.
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        related_name="events",
        db_column="sku_id",
        db_index=False,
        verbose_name=_("SKU"),
    )
    quantity = models.IntegerField(_("quantity"))
    balance_after = models.IntegerField(_("stock after"))
    oversold = models.BooleanField(
        _("oversold"),
        default=False,
        help_text=_("An order took the stock of a SKU that does not allow oversell below zero."),
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="events",
        db_column="store_id",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("store"),
    )
    # The order status as the platform names it (RMS "300", futureshop "AWAITING_PAYMENT").
    platform_status = models.CharField(_("platform status"), max_length=32, null=True, blank=True)
    order_id = models.CharField(_("order"), max_length=100, null=True, blank=True)
    operator = models.CharField(_("operator"), max_length=100)
    reason = models.TextField(_("reason"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    token = models.CharField(_("idempotency token"), max_length=64, unique=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = EventQuerySet.as_manager()

    class Meta:
        db_table = "inventory_events"
        verbose_name = _("inventory event")
        verbose_name_plural = _("inventory events")
        ordering = ["-created_at"]
        permissions = [
            ("adjust_stock", _("Can adjust stock by hand")),
            ("reset_test_data", _("Can reset the test data")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_type__in=EventType.values), name="inventory_events_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=EventSource.values), name="inventory_events_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "created_at"], name="inv_events_sku_time"),
            models.Index(
                fields=["created_at"], name="inv_events_oversold", condition=Q(oversold=True)
            ),
            models.Index(fields=["store", "order_id"], name="inv_events_store_order"),
            # The admin's default order (newest first, then the primary key Django adds to
            # make it total): a backward scan of this index, never a sort of the ledger.
            models.Index(fields=["created_at", "event_id"], name="inv_events_time"),
            # The admin's search: an order id exactly or by its beginning (pattern ops:
            # LIKE 'x%' uses the index whatever the database's collation) ...
            models.Index(
                fields=["order_id"],
                name="inv_events_order",
                opclasses=["varchar_pattern_ops"],
                condition=Q(order_id__isnull=False),
            ),
            # ... and one operator's events, newest first (an ordered scan of this index).
            models.Index(
                fields=["operator", "created_at"],
                name="inv_events_operator_time",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} {self.sku_id} {self.quantity:+d}"


class InventorySnapshot(models.Model):
    """The current stock of a SKU: always the sum of its events."""

    sku = models.OneToOneField(
        "skus.Sku",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="snapshot",
        db_column="sku_id",
        verbose_name=_("SKU"),
    )
    internal_available = models.IntegerField(_("available"), default=0)
    last_event = models.ForeignKey(
        InventoryEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_column="last_event_id",
        verbose_name=_("last event"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        db_table = "inventory_snapshots"
        verbose_name = _("inventory snapshot")
        verbose_name_plural = _("inventory snapshots")

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.internal_available}"


class AuditAction(models.TextChoices):
    """Codes are stored in the log: never rename or reuse one."""

    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("login failed")
    SKU_CREATE = "sku.create", _("SKU created")
    SKU_UPDATE = "sku.update", _("SKU updated")
    SKU_REGISTER = "sku.register", _("SKU registered to a store")
    STOCK_ADJUST = "stock.adjust", _("stock adjusted")
    STORE_CREATE = "store.create", _("store created")
    STORE_UPDATE = "store.update", _("store updated")
    STORE_CREDENTIALS = "store.credentials", _("store credentials changed")
    SNAPSHOT_REBUILD = "snapshot.rebuild", _("snapshots rebuilt")
    TEST_RESET = "test.reset", _("test data reset")
    IMPORT_CONFIRM = "import.confirm", _("import confirmed")
    MANUAL_POLL = "poll.manual", _("manual order poll")
    SKU_SYNC = "sku.sync", _("SKU sync from a store")
    PUSH_ALL = "push.all", _("every SKU pushed to a store")
    FAILED_RETRY = "push.retry", _("failed syncs retried")
    QUARANTINE_DISMISS = "order.dismiss", _("quarantined orders dismissed")
    DRIFT_REPAIR = "push.repair", _("drift found by reconcile pushed again")
    TOKEN_CREATE = "token.create", _("API token created")
    TOKEN_REVOKE = "token.revoke", _("API token revoked")
    PURCHASE_CREATE = "purchase.create", _("purchase created")
    PURCHASE_UPDATE = "purchase.update", _("purchase updated")
    PURCHASE_DELETE = "purchase.delete", _("purchase deleted")
    PURCHASE_ITEM_ADD = "purchase.item_add", _("purchase item added")
    PURCHASE_ITEM_UPDATE = "purchase.item_update", _("purchase item updated")
    OFFICIAL_ACCOUNT_CHANGE = "purchase.account", _("official account changed")
    LEDGER_CHECK = "ledger.check", _("ledger check requested")
    SET_DEFINE = "sku.set", _("set components changed")
    ALLOCATION_RULE = "allocation.rule", _("allocation rule changed")
    RECONCILE = "store.reconcile", _("store reconciled on request")


class AuditLogQuerySet(AppendOnlyQuerySet):
    immutable_message = MSG_AUDIT_IMMUTABLE


class AuditLog(AppendOnlyModel):
    immutable_message = MSG_AUDIT_IMMUTABLE

    log_id = models.UUIDField(_("log id"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.CharField(_("user"), max_length=100)
    action = models.CharField(_("action"), max_length=255, choices=AuditAction.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        db_table = "audit_log"
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="audit_log_user_time")]

    def __str__(self) -> str:
        created_at = timezone.localtime(self.created_at)
        return f"{created_at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


class PendingPush(models.Model):
    """The transactional outbox: one row per (store, SKU) whose stock the
    store must be told. Written with the event that changed the stock, so a
    crash after commit loses nothing; many events coalesce into one row."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        IN_PROGRESS = "in_progress", _("in progress")
        FAILED = "failed", _("failed")

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="pending_pushes",
        db_column="store_id",
        verbose_name=_("store"),
    )
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        related_name="pending_pushes",
        db_column="sku_id",
        verbose_name=_("SKU"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True, default="")
    requested_at = models.DateTimeField(
        _("requested"),
        default=timezone.now,
        help_text=_("When an event last made this push due."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # A write the platform may still apply late (it timed out before it succeeded): the
    # store's stock is read back at this time, and pushed again if it is not ours.
    verify_after = models.DateTimeField(_("read back at"), null=True, blank=True)

    class Meta:
        db_table = "pending_push"
        verbose_name = _("pending push")
        verbose_name_plural = _("pending pushes")
        ordering = ["next_attempt_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="pending_push_store_sku_key"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_progress", "failed"]),
                name="pending_push_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="pending_push_due"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.sku_id} {self.get_status_display()}"


class LedgerCheck(models.Model):
    """One run of the ledger check: every SKU's snapshot against the sum of its events.

    The reconciliation page shows the newest one instead of summing the whole ledger on
    every view; a nightly schedule and staff's "check now" add rows. ``drift`` keeps the
    first ``LEDGER_CHECK_DRIFT_KEPT`` differences found, ``drift_count`` all of them."""

    class Status(models.TextChoices):
        OK = "ok", _("every snapshot equals the sum of its events")
        DRIFT = "drift", _("drift found")
        FAILED = "failed", _("failed")

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    requested_by = models.CharField(
        _("requested by"),
        max_length=100,
        help_text=_("The staff member who asked for it, or the schedule that ran it."),
    )
    status = models.CharField(_("result"), max_length=10, choices=Status.choices)
    skus_checked = models.PositiveIntegerField(_("SKUs checked"), default=0)
    drift_count = models.PositiveIntegerField(_("SKUs with drift"), default=0)
    drift = models.JSONField(_("drift found"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        db_table = "ledger_checks"
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ok", "drift", "failed"]),
                name="ledger_checks_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["started_at", "id"], name="ledger_checks_recent")]

    def __str__(self) -> str:
        started_at = timezone.localtime(self.started_at)
        return f"{started_at:%Y-%m-%d %H:%M} {self.get_status_display()} ({self.drift_count})"
