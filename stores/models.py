"""Stores and the per-store registration of SKUs (the platform id mapping)."""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stores.crypto import CredentialDecryptError, decrypt_credentials, mask_secret

RAKUTEN_DEFAULT_BASE_URL = "https://api.rms.rakuten.co.jp"
MSG_UNREADABLE = _("unreadable: the encryption keys cannot open them; enter them again")


class Store(models.Model):
    class Platform(models.TextChoices):
        RAKUTEN = "rakuten", _("Rakuten Ichiba")
        FUTURESHOP = "futureshop", _("futureshop")
        EBAY = "ebay", _("eBay")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        INACTIVE = "inactive", _("inactive")

    store_id = models.CharField(_("store id"), max_length=50, primary_key=True)
    store_name = models.CharField(_("name"), max_length=100)
    platform_type = models.CharField(
        _("platform"), max_length=20, choices=Platform.choices, default=Platform.RAKUTEN
    )
    api_config = models.JSONField(
        _("API settings"),
        default=dict,
        blank=True,
        help_text=_("Non-secret settings such as base_url and shop_url. Never credentials."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    safety_stock = models.PositiveIntegerField(
        _("safety stock"),
        default=0,
        help_text=_("Units held back from this store for every SKU (a SKU may override it)."),
    )
    reconcile_repairs = models.BooleanField(
        _("reconcile repairs drift"),
        default=True,
        help_text=_(
            "When the nightly reconcile finds the store showing another quantity than we "
            "told it, push ours again. Off: only report the drift."
        ),
    )
    # One Fernet token (stores.crypto) of a JSON object: the credentials the store's
    # adapter declares (RMS: service_secret, license_key). Never shown, logged or audited.
    credentials_encrypted = models.TextField(_("credentials (encrypted)"), blank=True)
    last_sku_sync_at = models.DateTimeField(_("last SKU sync"), null=True, blank=True)
    # From the last auth test (RMS's licence-key expiry call).
    license_expires_at = models.DateTimeField(_("licence key expires"), null=True, blank=True)
    last_auth_test_at = models.DateTimeField(_("last auth test"), null=True, blank=True)
    last_auth_error = models.TextField(_("last auth error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "stores"
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["store_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(platform_type__in=["rakuten", "futureshop", "ebay"]),
                name="stores_platform_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "inactive"]), name="stores_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_name} ({self.store_id})"

    @property
    def base_url(self) -> str:
        return str(self.api_config.get("base_url") or RAKUTEN_DEFAULT_BASE_URL).rstrip("/")

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    def credentials(self) -> dict[str, str]:
        """Every credential in clear (raises CredentialDecryptError on a wrong key)."""
        return decrypt_credentials(self.credentials_encrypted)

    def credential(self, name: str) -> str:
        return self.credentials().get(name, "")

    @property
    def credentials_readable(self) -> bool:
        """False when the configured keys cannot open this store's credentials."""
        try:
            self.credentials()
        except CredentialDecryptError:
            return False
        return True

    @property
    def credentials_masked(self) -> dict[str, str]:
        """Each credential's name with at most its last four characters (a page never
        fails on credentials the keys cannot open: it says so instead)."""
        try:
            credentials = self.credentials()
        except CredentialDecryptError:
            return {str(_("credentials")): str(MSG_UNREADABLE)}
        return {name: mask_secret(value) for name, value in credentials.items()}


class StoreSku(models.Model):
    """A SKU registered in a store: the store is told the SKU's stock.

    The ids the platform knows it by live in the platform's binding table
    (``rakuten.RakutenBinding`` …), written through the store's adapter."""

    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        related_name="registrations",
        db_column="store_id",
        verbose_name=_("store"),
    )
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.PROTECT,
        related_name="registrations",
        db_column="sku_id",
        verbose_name=_("SKU"),
    )
    safety_stock = models.PositiveIntegerField(
        _("safety stock"),
        null=True,
        blank=True,
        help_text=_("Overrides the store's safety stock for this SKU when set."),
    )
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    # What we last told the store (for reconcile: drift is the store showing something else).
    last_pushed_quantity = models.IntegerField(_("last pushed"), null=True, blank=True)
    last_pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True)

    class Meta:
        db_table = "store_sku"
        verbose_name = _("store SKU registration")
        verbose_name_plural = _("store SKU registrations")
        ordering = ["store_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="store_sku_store_sku_key"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.sku_id}"

    @property
    def effective_safety_stock(self) -> int:
        if self.safety_stock is not None:
            return self.safety_stock
        return self.store.safety_stock


class AllocationRule(models.Model):
    """A rule for how much of a SKU's available stock a store is told (stores.allocation).

    For the whole store (``sku`` empty) or one SKU there; standing, or in force only
    between ``starts_at`` and ``ends_at`` (a sale day). A standing buffer is the safety
    stock (the store's, or the registration's), so a buffer rule always has a window."""

    class Kind(models.TextChoices):
        BUFFER = "buffer", _("buffer (units held back)")
        SHARE = "share", _("share of available (%)")
        CAP = "cap", _("maximum shown")
        ZERO_BELOW = "zero_below", _("show 0 when available is below")

    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        related_name="allocation_rules",
        db_column="store_id",
        verbose_name=_("store"),
    )
    sku = models.ForeignKey(
        "skus.Sku",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allocation_rules",
        db_column="sku_id",
        verbose_name=_("SKU"),
        help_text=_("Empty: every SKU of the store."),
    )
    kind = models.CharField(_("rule"), max_length=20, choices=Kind.choices)
    value = models.PositiveIntegerField(_("value"))
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    # The last window edge (start or end) whose pushes were made due.
    edge_applied_at = models.DateTimeField(
        _("window edge applied at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "allocation_rules"
        verbose_name = _("allocation rule")
        verbose_name_plural = _("allocation rules")
        ordering = ["store_id", "sku_id", "kind", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["buffer", "share", "cap", "zero_below"]),
                name="allocation_rules_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="share") | Q(value__lte=100),
                name="allocation_rules_share_percent",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="allocation_rules_window_order",
            ),
            models.CheckConstraint(
                condition=~Q(kind="buffer") | Q(starts_at__isnull=False) | Q(ends_at__isnull=False),
                name="allocation_rules_buffer_windowed",
            ),
        ]
        indexes = [models.Index(fields=["store", "sku"], name="allocation_rules_store_sku")]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.sku_id or '*'} {self.get_kind_display()} {self.value}"

    @property
    def windowed(self) -> bool:
        return self.starts_at is not None or self.ends_at is not None

    def in_force(self, now: dt.datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )
