"""What Inventory Sync remembers of each Rakuten store's orders."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RakutenOrderConfirmation(models.Model):
    """RMS's order confirmation (confirmOrder): a new order (100) of a store with
    ``"confirm_orders": true`` is confirmed once its events are recorded; failures back
    off and end ``failed``, listed for staff like failed pushes."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("confirmed")
        FAILED = "failed", _("failed")

    order = models.OneToOneField(
        "sync.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rakuten_confirmation",
        verbose_name=_("order"),
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    status = models.CharField(
        _("confirmation"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        db_table = "rakuten_order_confirmations"
        verbose_name = _("order confirmation")
        verbose_name_plural = _("order confirmations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "done", "failed"]),
                name="rakuten_order_confirmations_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_at"], name="rakuten_confirmations_due")]

    def __str__(self) -> str:
        return f"{self.order.order_number} ({self.get_status_display()})"


class RakutenBinding(models.Model):
    """Which RMS variant a store registration is: (manageNumber, variantId), and the
    merchant's own SKU code (merchantDefinedSkuId). Read and written only by
    ``rakuten.adapter.RmsBinder``. manageNumber is lowercase on RMS; variantId keeps its
    case."""

    registration = models.OneToOneField(
        "stores.StoreSku",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rakuten",
        verbose_name=_("registration"),
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    manage_number = models.CharField(
        _("item manage number"),
        max_length=32,
        blank=True,
        help_text=_("商品管理番号（商品URL）: the item's id in the store."),
    )
    variant_id = models.CharField(
        _("variant id"),
        max_length=32,
        blank=True,
        help_text=_("SKU管理番号: the variant's id in the item, case-sensitive."),
    )
    merchant_sku_id = models.CharField(
        _("merchant SKU id"),
        max_length=50,
        blank=True,
        help_text=_("システム連携用SKU番号 as the store spells it."),
    )

    class Meta:
        db_table = "rakuten_binding"
        verbose_name = _("RMS variant of a registration")
        verbose_name_plural = _("RMS variants of registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "manage_number", "variant_id"],
                condition=~Q(variant_id=""),
                name="rakuten_binding_variant_key",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "merchant_sku_id"], name="rakuten_binding_merchant")
        ]

    def __str__(self) -> str:
        return f"{self.manage_number}/{self.variant_id}"
