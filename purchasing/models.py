"""Purchase orders (spec 001), the official accounts they are bought with, and the
inventory items each one brings; an item that arrives adds its units to its SKU's pool
(see ``purchasing.services``)."""

import secrets

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

UUID_MAX_LENGTH = 59


def new_purchasing_uuid() -> str:
    """A random id shaped like the spec's examples: six groups of eight hex digits
    (``1a2b3c4d-5e6f7a8b-…``), 192 random bits, 53 of the column's 59 characters."""
    digits = secrets.token_hex(24)
    return "-".join(digits[start : start + 8] for start in range(0, len(digits), 8))


class OfficialAccount(models.Model):
    """An account at the official (maker's) web shop that purchases are placed with."""

    account_id = models.CharField(_("account id"), max_length=50, unique=True)
    email = models.EmailField(_("email"), blank=True, default="")
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "official_accounts"
        verbose_name = _("official account")
        verbose_name_plural = _("official accounts")
        ordering = ["account_id"]

    def __str__(self) -> str:
        return f"{self.account_id} ({self.name})" if self.name else self.account_id


class PurchasingQuerySet(models.QuerySet):
    def visible(self) -> "PurchasingQuerySet":
        """Purchases not soft-deleted."""
        return self.filter(is_deleted=False)


class Purchasing(models.Model):
    """One purchase order, every field of spec 001's table. ``is_locked``,
    ``locked_at`` and ``locked_by_worker`` are a worker's claim (services only);
    ``is_deleted`` is the soft delete."""

    class DeliveryStatus(models.TextChoices):
        PENDING_CONFIRMATION = "pending_confirmation", _("awaiting confirmation")
        SHIPPED = "shipped", _("shipped")
        IN_DELIVERY = "in_delivery", _("in delivery")
        DELIVERED = "delivered", _("delivered")

    uuid = models.CharField(
        _("UUID"),
        max_length=UUID_MAX_LENGTH,
        unique=True,
        default=new_purchasing_uuid,
        editable=False,
    )
    order_number = models.CharField(
        _("order number"), max_length=50, null=True, blank=True, db_index=True
    )
    official_account = models.ForeignKey(
        OfficialAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchasing_orders",
        verbose_name=_("official account"),
    )
    batch_encoding = models.CharField(
        _("batch code"), max_length=50, blank=True, default="", db_index=True
    )
    batch_level_1 = models.CharField(_("batch level 1"), max_length=50, blank=True, default="")
    batch_level_2 = models.CharField(_("batch level 2"), max_length=50, blank=True, default="")
    batch_level_3 = models.CharField(_("batch level 3"), max_length=50, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    estimated_website_arrival_date = models.DateField(
        _("estimated arrival (official site)"), null=True, blank=True
    )
    estimated_website_arrival_date_2 = models.DateField(
        _("estimated arrival 2 (official site)"), null=True, blank=True
    )
    tracking_number = models.CharField(
        _("tracking number"), max_length=50, blank=True, default="", db_index=True
    )
    estimated_delivery_date = models.DateField(_("estimated delivery"), null=True, blank=True)
    shipping_method = models.CharField(_("shipping method"), max_length=100, null=True, blank=True)
    official_query_url = models.CharField(
        _("official tracking URL"), max_length=500, null=True, blank=True
    )
    delivery_status = models.CharField(
        _("delivery status"),
        max_length=30,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING_CONFIRMATION,
        db_index=True,
    )
    latest_delivery_status = models.CharField(
        _("latest delivery status"),
        max_length=10,
        null=True,
        blank=True,
        help_text=_("As the carrier shows it (Japanese, at most 10 characters)."),
    )
    delivery_status_query_time = models.DateTimeField(
        _("delivery status queried"), null=True, blank=True
    )
    delivery_status_query_source = models.CharField(
        _("delivery status source"), max_length=100, null=True, blank=True
    )
    last_info_updated_at = models.DateTimeField(_("information updated"), null=True, blank=True)
    account_used = models.CharField(_("account used"), max_length=50, blank=True, default="")
    payment_method = models.TextField(
        _("payment method"),
        blank=True,
        default="",
        help_text=_("Free text: the payment method used, or payment details not yet matched."),
    )
    is_locked = models.BooleanField(_("locked"), default=False, db_index=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    locked_by_worker = models.CharField(
        _("locked by worker"), max_length=50, blank=True, default=""
    )
    is_deleted = models.BooleanField(_("deleted"), default=False)
    creation_source = models.CharField(_("created by"), max_length=200, null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PurchasingQuerySet.as_manager()

    class Meta:
        db_table = "purchasing"
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    delivery_status__in=[
                        "pending_confirmation",
                        "shipped",
                        "in_delivery",
                        "delivered",
                    ]
                ),
                name="purchasing_delivery_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["-shipped_at"], name="purchasing_shipped_desc"),
            # The list's ordering by update time (bench_purchasing).
            models.Index(fields=["-updated_at", "-id"], name="purchasing_updated_desc"),
            # The default order, and its tie-break, in one index.
            models.Index(fields=["-created_at", "-id"], name="purchasing_created_desc"),
            # What a worker's claim scans: live purchases, unlocked or with an old lock.
            models.Index(fields=["is_deleted", "is_locked", "locked_at"], name="purchasing_claim"),
        ]

    def __str__(self) -> str:
        return self.order_number or self.uuid


class InventoryItem(models.Model):
    """One inventory item a purchase brings (the spec's ``Inventory.source2``), linked to
    one of our SKUs once known. ``received_quantity`` units of it are counted in the pool
    of ``received_sku`` right now; only ``purchasing.services`` changes them."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", _("in transit")
        ARRIVED = "arrived", _("arrived")
        OUT_OF_STOCK = "out_of_stock", _("out of stock")
        ABNORMAL = "abnormal", _("abnormal")

    purchase = models.ForeignKey(
        Purchasing,
        on_delete=models.PROTECT,
        related_name="purchasing_inventories",
        verbose_name=_("purchase"),
    )
    uuid = models.CharField(
        _("UUID"),
        max_length=UUID_MAX_LENGTH,
        unique=True,
        default=new_purchasing_uuid,
        editable=False,
    )
    flag = models.CharField(_("flag"), max_length=50, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_TRANSIT
    )
    product_type = models.CharField(_("product type"), max_length=50, null=True, blank=True)
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_items",
        verbose_name=_("SKU"),
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )
    received_sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("counted in SKU"),
    )
    received_quantity = models.PositiveIntegerField(
        _("units in stock"),
        default=0,
        editable=False,
        help_text=_("Units of this item counted in the SKU's stock now."),
    )
    # Counts the stock events written for this item: part of their idempotency tokens.
    receipt_revision = models.PositiveIntegerField(_("stock changes"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "purchasing_inventory_items"
        verbose_name = _("purchase item")
        verbose_name_plural = _("purchase items")
        ordering = ["purchase", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["in_transit", "arrived", "out_of_stock", "abnormal"]),
                name="purchasing_items_status_valid",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="purchasing_items_qty_min"),
            models.CheckConstraint(
                condition=Q(received_quantity=0) | Q(received_sku__isnull=False),
                name="purchasing_items_received_sku",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="purchasing_items_status")]

    def __str__(self) -> str:
        return self.flag or self.uuid
