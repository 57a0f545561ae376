"""The SKU master: one row per SKU, lowercase id, never deleted."""

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from inventory_site.errors import InventoryError

SKU_ID_MAX_LENGTH = 50
TEST_SKU_ID = "ce1111"

MSG_SKU_ID_EMPTY = _("A SKU id is required.")
MSG_SKU_ID_TOO_LONG = _("The SKU id “%(sku_id)s” is longer than %(limit)d characters.")
MSG_SKU_ID_WHITESPACE = _("The SKU id “%(sku_id)s” contains spaces or control characters.")
MSG_SKU_ID_SLASH = _("The SKU id “%(sku_id)s” contains “/”, which a SKU id may not hold.")
MSG_SKU_ID_INVISIBLE = _(
    "The SKU id “%(sku_id)s” contains invisible or direction-changing characters "
    "(zero-width or bidi controls): type it again."
)
MSG_SKU_DELETE_REFUSED = _("SKUs are never deleted: mark the SKU inactive instead.")
MSG_TEST_SKU_PROTECTED = _(
    "The test product ce1111 must stay active in the test environment; it cannot be "
    "inactivated, moved to prod or deleted."
)

_SKU_ID_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# Zero-width characters and bidi controls: two ids that look the same must be the same.
_SKU_ID_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


class SkuSearchText(models.Func):
    """What the SKU list's search reads: the id and the name as one text,
    ``sku_id || ' ' || sku_name`` (both are NOT NULL; no parameters, so that the query's
    expression is exactly the one migration 0002 indexes with trigrams on PostgreSQL:
    ``UPPER((sku_id || ' ' || sku_name)::text) gin_trgm_ops``, which ``icontains`` uses)."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()

    def __init__(self) -> None:
        super().__init__(models.F("sku_id"), models.F("sku_name"))


class SkuDeletionRefused(InventoryError):
    """Raised by every path that would delete a SKU row."""


def normalize_sku_id(raw: object) -> str:
    """The internal key of a SKU id: Unicode NFKC (so that ids that look the same are
    the same: "café" typed two ways, full-width letters), stripped and lowercased.

    Raises ValidationError with a message the user can act on.
    """
    text = "" if raw is None else unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        raise ValidationError(MSG_SKU_ID_EMPTY, code="sku_id_empty")
    if len(text) > SKU_ID_MAX_LENGTH:
        raise ValidationError(
            MSG_SKU_ID_TOO_LONG,
            code="sku_id_too_long",
            params={"sku_id": text[:60], "limit": SKU_ID_MAX_LENGTH},
        )
    if _SKU_ID_INVISIBLE.search(text):
        shown = _SKU_ID_INVISIBLE.sub("\ufffd", text)
        raise ValidationError(
            MSG_SKU_ID_INVISIBLE, code="sku_id_invisible", params={"sku_id": shown}
        )
    if _SKU_ID_FORBIDDEN.search(text):
        raise ValidationError(
            MSG_SKU_ID_WHITESPACE, code="sku_id_whitespace", params={"sku_id": text}
        )
    if "/" in text:
        raise ValidationError(MSG_SKU_ID_SLASH, code="sku_id_slash", params={"sku_id": text})
    return text.lower()


class LowercaseCharField(models.CharField):
    """A CharField whose value is lowercased on the way to the database.

    Lookups go through it too (``Sku.objects.get(pk="CE1111")`` finds
    ``ce1111``), and so do foreign keys pointing at it.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value.lower() if isinstance(value, str) else value


class SkuQuerySet(models.QuerySet):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise SkuDeletionRefused(str(MSG_SKU_DELETE_REFUSED))

    def active(self) -> "SkuQuerySet":
        return self.filter(status=Sku.Status.ACTIVE)


class Sku(models.Model):
    class Environment(models.TextChoices):
        TEST = "test", _("test")
        PROD = "prod", _("prod")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        INACTIVE = "inactive", _("inactive")

    sku_id = LowercaseCharField(_("SKU id"), max_length=SKU_ID_MAX_LENGTH, primary_key=True)
    original_sku = models.CharField(
        _("original SKU"),
        max_length=SKU_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text=_("The id as it was first entered, case kept."),
    )
    sku_name = models.CharField(_("name"), max_length=200)
    allow_oversell = models.BooleanField(_("allow oversell"), default=False)
    environment = models.CharField(
        _("environment"), max_length=10, choices=Environment.choices, default=Environment.PROD
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    aliases = models.JSONField(
        _("aliases"),
        default=dict,
        blank=True,
        help_text=_("Other spellings of this SKU, e.g. per store, case kept."),
    )
    low_stock_threshold = models.PositiveIntegerField(
        _("low stock threshold"),
        null=True,
        blank=True,
        help_text=_(
            "Warn on the dashboard and in the daily mail when the available stock falls to "
            "this or below. Empty: no warning."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SkuQuerySet.as_manager()

    class Meta:
        db_table = "sku_master"
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["sku_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(environment__in=["test", "prod"]), name="sku_master_environment_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "inactive"]), name="sku_master_status_valid"
            ),
            models.CheckConstraint(condition=Q(sku_id=Lower("sku_id")), name="sku_master_id_lower"),
            models.CheckConstraint(
                condition=~Q(sku_id=TEST_SKU_ID) | Q(status="active", environment="test"),
                name="sku_master_ce1111_active_test",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "status"], name="sku_master_env_status"),
            # The few SKUs with a low-stock threshold, read by the dashboard and the mail.
            models.Index(
                fields=["sku_id"],
                condition=Q(low_stock_threshold__isnull=False),
                name="sku_master_low_stock",
            ),
        ]

    def __str__(self) -> str:
        return self.original_sku or self.sku_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalize()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SkuDeletionRefused(str(MSG_SKU_DELETE_REFUSED))

    @property
    def display_id(self) -> str:
        return self.original_sku or self.sku_id

    def normalize(self) -> None:
        """Keep the case as entered in ``original_sku``; lowercase the key."""
        raw = "" if self.sku_id is None else str(self.sku_id).strip()
        if raw and not self.original_sku:
            self.original_sku = raw
        self.sku_id = normalize_sku_id(raw)

    def clean(self) -> None:
        if self.sku_id == TEST_SKU_ID and (
            self.status != self.Status.ACTIVE or self.environment != self.Environment.TEST
        ):
            raise ValidationError(MSG_TEST_SKU_PROTECTED, code="test_sku_protected")


SET_COMPONENT_QUANTITY_MAX = 999


class SkuComponent(models.Model):
    """One component of a set (bundle) SKU: the set takes ``quantity`` of it per unit.

    A set has no stock of its own: it can sell as many as its components allow
    (min of each component's available // quantity), and an order of it takes its
    components. Written only through ``skus.services.set_define``, which refuses sets of
    sets."""

    set = models.ForeignKey(
        Sku,
        on_delete=models.PROTECT,
        related_name="components",
        db_column="set_id",
        verbose_name=_("set SKU"),
    )
    component = models.ForeignKey(
        Sku,
        on_delete=models.PROTECT,
        related_name="used_in",
        db_column="component_id",
        verbose_name=_("component SKU"),
    )
    quantity = models.PositiveSmallIntegerField(_("quantity per set"), default=1)

    class Meta:
        db_table = "sku_components"
        verbose_name = _("set component")
        verbose_name_plural = _("set components")
        ordering = ["set_id", "component_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["set", "component"], name="sku_components_set_component"
            ),
            models.CheckConstraint(
                condition=~Q(set=models.F("component")), name="sku_components_not_itself"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=SET_COMPONENT_QUANTITY_MAX),
                name="sku_components_quantity_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.set_id} ← {self.quantity} × {self.component_id}"
