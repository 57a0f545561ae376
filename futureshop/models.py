"""Which futureshop SKU a store registration is."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FutureshopBinding(models.Model):
    """A registration's futureshop keys: the product number, the SKU number, and the
    pair of branch numbers (縦軸/横軸) an inventory update needs. Kept as futureshop
    spells them (case kept). Read and written only by ``futureshop.adapter.FutureshopBinder``.
    """

    registration = models.OneToOneField(
        "stores.StoreSku",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="futureshop",
        verbose_name=_("registration"),
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    product_no = models.CharField(_("product number"), max_length=32, blank=True)
    sku_no = models.CharField(_("SKU number"), max_length=100, blank=True)
    vertical_no = models.CharField(_("branch number (vertical)"), max_length=9, blank=True)
    horizontal_no = models.CharField(_("branch number (horizontal)"), max_length=9, blank=True)

    class Meta:
        db_table = "futureshop_binding"
        verbose_name = _("futureshop SKU of a registration")
        verbose_name_plural = _("futureshop SKUs of registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product_no", "vertical_no", "horizontal_no"],
                condition=~Q(product_no=""),
                name="futureshop_binding_sku_key",
            ),
        ]
        indexes = [models.Index(fields=["store", "sku_no"], name="futureshop_binding_sku_no")]

    def __str__(self) -> str:
        return f"{self.product_no}/{self.vertical_no}/{self.horizontal_no}"
