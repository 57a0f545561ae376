"""eBay's own tables: which eBay SKU and offers a registration is, the seller's connection
(tokens encrypted at rest), and the catalogue as the last inventory/offers sync read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.crypto import decrypt_credentials, encrypt_credentials


class EbayBinding(models.Model):
    """A registration's eBay keys: the seller's SKU (case kept, as eBay holds it), the
    published offers whose available quantity a push sets, and where they sell. Read and
    written only by ``ebay.adapter.EbayBinder``."""

    registration = models.OneToOneField(
        "stores.StoreSku",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="ebay",
        verbose_name=_("registration"),
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    ebay_sku = models.CharField(_("eBay SKU"), max_length=50, blank=True)
    # Offer ids as eBay gives them (strings); the push sets each one's availableQuantity.
    offer_ids = models.JSONField(_("offer ids"), default=list, blank=True)
    marketplace_id = models.CharField(_("marketplace"), max_length=32, blank=True)
    merchant_location_key = models.CharField(_("location key"), max_length=36, blank=True)

    class Meta:
        db_table = "ebay_binding"
        verbose_name = _("eBay SKU of a registration")
        verbose_name_plural = _("eBay SKUs of registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "ebay_sku"], condition=~Q(ebay_sku=""), name="ebay_binding_sku_key"
            ),
        ]

    def __str__(self) -> str:
        return self.ebay_sku


class EbayConnection(models.Model):
    """The seller account a store is connected to: the refresh token eBay gave on consent
    and the current access token, both encrypted (``stores.crypto``), never shown or logged.
    ``reconnect`` is set when eBay refused the refresh token: the seller must consent again."""

    store = models.OneToOneField(
        "stores.Store",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="ebay_connection",
        verbose_name=_("store"),
    )
    tokens_encrypted = models.TextField(_("tokens (encrypted)"), blank=True)
    access_expires_at = models.DateTimeField(_("access token ends"), null=True, blank=True)
    refresh_expires_at = models.DateTimeField(_("refresh token ends"), null=True, blank=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    connected_by = models.CharField(_("connected by"), max_length=150, blank=True)
    reconnect = models.BooleanField(_("must reconnect"), default=False)
    last_error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        db_table = "ebay_connection"
        verbose_name = _("eBay connection")
        verbose_name_plural = _("eBay connections")

    def __str__(self) -> str:
        return gettext("eBay connection of %(store)s") % {"store": self.store_id}

    def tokens(self) -> dict[str, str]:
        return decrypt_credentials(self.tokens_encrypted) if self.tokens_encrypted else {}

    def client_options(self) -> dict[str, Any]:
        """What an ``EbayClient`` takes of this connection (the access token is saved back
        whenever the client refreshes it, so other processes reuse it)."""
        tokens = self.tokens()
        store_id = self.store_id

        def keep(access_token: str, expires_at: dt.datetime) -> None:
            row = EbayConnection.objects.get(pk=store_id)
            row.tokens_encrypted = encrypt_credentials({**row.tokens(), "access": access_token})
            row.access_expires_at = expires_at
            row.reconnect = False
            row.last_error = ""
            row.save(
                update_fields=["tokens_encrypted", "access_expires_at", "reconnect", "last_error"]
            )

        return {
            "refresh_token": tokens.get("refresh", ""),
            "access_token": tokens.get("access", ""),
            "access_expires_at": self.access_expires_at,
            "on_token": keep,
        }

    @property
    def refresh_ends_soon(self) -> bool:
        """Within 30 days of the refresh token's end: time to consent again."""
        return bool(
            self.refresh_expires_at
            and self.refresh_expires_at - timezone.now() < dt.timedelta(days=30)
        )


class EbayListing(models.Model):
    """One eBay SKU as the last inventory/offers sync read it (no price anywhere: the raw
    payloads are stored with every money field removed)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")
        UNKNOWN = "unknown", _("unknown")

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.CASCADE,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    ebay_sku = models.CharField(_("eBay SKU"), max_length=50)
    title = models.CharField(_("title"), max_length=200, blank=True)
    condition = models.CharField(_("condition"), max_length=40, blank=True)
    part_number = models.CharField(_("part number"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    category_id = models.CharField(_("category"), max_length=20, blank=True)
    quantity = models.IntegerField(_("quantity"), null=True, blank=True)
    offers = models.JSONField(_("offers"), default=list, blank=True)
    listing_id = models.CharField(_("listing id"), max_length=40, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.UNKNOWN
    )
    photo_count = models.PositiveSmallIntegerField(_("photos"), default=0)
    raw_item = models.JSONField(_("item as eBay sent it"), default=dict, blank=True)
    raw_offers = models.JSONField(_("offers as eBay sent them"), default=list, blank=True)
    item_synced_at = models.DateTimeField(_("item read"), null=True, blank=True)
    offers_synced_at = models.DateTimeField(_("offers read"), null=True, blank=True)

    class Meta:
        db_table = "ebay_listing"
        verbose_name = _("eBay listing")
        verbose_name_plural = _("eBay listings")
        ordering = ["store", "ebay_sku"]
        constraints = [
            models.UniqueConstraint(fields=["store", "ebay_sku"], name="ebay_listing_sku_key"),
        ]

    def __str__(self) -> str:
        return self.ebay_sku


class EbayRevision(models.Model):
    """Stock revisions sent to one eBay listing on one day (UTC): eBay allows about 250
    revisions of a listing a day, so a push keeps a change pending rather than be refused."""

    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.CASCADE,
        related_name="+",
        db_column="store_id",
        verbose_name=_("store"),
    )
    offer_id = models.CharField(_("offer id"), max_length=40)
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("revisions"), default=0)

    class Meta:
        db_table = "ebay_revision"
        verbose_name = _("eBay revision count")
        verbose_name_plural = _("eBay revision counts")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "offer_id", "day"], name="ebay_revision_offer_day_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.day}: {self.count}"
