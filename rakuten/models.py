"""What Inventory Sync remembers of each Rakuten store's orders."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RakutenOrder(models.Model):
    class ConfirmStatus(models.TextChoices):
        NONE = "", _("not asked")
        PENDING = "pending", _("pending")
        DONE = "done", _("confirmed")
        FAILED = "failed", _("failed")

    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="orders", db_column="store_id"
    )
    order_number = models.CharField(_("order number"), max_length=100)
    progress = models.PositiveSmallIntegerField(_("order progress"))
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True)
    # Shipped, paid or cancelled: no longer fetched on every poll (only by the sweep).
    final = models.BooleanField(_("final"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    confirm_status = models.CharField(
        _("confirmation"), max_length=8, choices=ConfirmStatus.choices, blank=True, default=""
    )
    confirm_attempts = models.PositiveIntegerField(default=0)
    confirm_next_at = models.DateTimeField(null=True, blank=True)
    confirm_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "rakuten_orders"
        verbose_name = _("Rakuten order")
        verbose_name_plural = _("Rakuten orders")
        ordering = ["-ordered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="rakuten_orders_store_number_key"
            ),
            models.CheckConstraint(
                condition=Q(confirm_status__in=["", "pending", "done", "failed"]),
                name="rakuten_orders_confirm_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "final"], name="rakuten_orders_open"),
            models.Index(
                fields=["confirm_status", "confirm_next_at"], name="rakuten_orders_confirm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.order_number} ({self.progress})"


class RakutenOrderLine(models.Model):
    """An order line as RMS shows it now; `sku` is empty while it matches no SKU."""

    order = models.ForeignKey(RakutenOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    manage_number = models.CharField(max_length=64, blank=True, default="")
    variant_id = models.CharField(max_length=64, blank=True, default="")
    merchant_sku_id = models.CharField(max_length=96, blank=True, default="")
    units = models.PositiveIntegerField()
    deleted = models.BooleanField(default=False)
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_column="sku_id",
    )

    class Meta:
        db_table = "rakuten_order_lines"
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "position"], name="rakuten_order_lines_position_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["sku"], condition=Q(sku__isnull=True), name="rakuten_order_lines_unmatched"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.order_number} #{self.position} {self.variant_id} x{self.units}"


class OrderSkuState(models.Model):
    """How many units of a SKU the ledger has taken for an order (net of its ORDER_* events)."""

    order = models.ForeignKey(RakutenOrder, on_delete=models.CASCADE, related_name="sku_states")
    sku = models.ForeignKey(
        "skus.Sku", on_delete=models.PROTECT, related_name="+", db_column="sku_id"
    )
    taken = models.IntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    confirmed_recorded = models.BooleanField(default=False)

    class Meta:
        db_table = "rakuten_order_sku_state"
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="rakuten_order_sku_state_key")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.sku_id} taken {self.taken}"
