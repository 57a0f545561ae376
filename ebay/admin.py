from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin

from .models import EbayBinding, EbayConnection, EbayListing


@admin.register(EbayBinding)
class EbayBindingAdmin(ReadOnlyAdmin):
    """The eBay keys of registrations (changed through the registration's own page)."""

    list_display = ("registration", "store", "ebay_sku", "offer_ids", "marketplace_id")
    list_filter = ("store",)
    search_fields = ("=ebay_sku", "registration__sku__sku_id__startswith")
    search_help_text = _("Matches an eBay SKU exactly, or a SKU id by its beginning.")
    list_select_related = ("registration", "store")
    show_full_result_count = False


@admin.register(EbayListing)
class EbayListingAdmin(ReadOnlyAdmin):
    """The seller's catalogue as the last inventory/offers sync read it (no prices)."""

    list_display = ("ebay_sku", "store", "title", "quantity", "state", "listing_id", "photo_count")
    list_filter = ("store", "state")
    search_fields = ("=ebay_sku", "title")
    list_select_related = ("store",)
    show_full_result_count = False


@admin.register(EbayConnection)
class EbayConnectionAdmin(ReadOnlyAdmin):
    """Which seller account each store is connected to; the tokens are never shown."""

    list_display = (
        "store",
        "connected_at",
        "connected_by",
        "access_expires_at",
        "refresh_expires_at",
        "reconnect",
    )
    exclude = ("tokens_encrypted",)
