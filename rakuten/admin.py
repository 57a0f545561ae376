from django.contrib import admin
from django.http import HttpRequest

from inventory_site.admin_mixins import ReadOnlyAdmin

from .models import RakutenBinding, RakutenOrderConfirmation


@admin.register(RakutenBinding)
class RakutenBindingAdmin(ReadOnlyAdmin):
    """The RMS ids of registrations (changed through the registration's own page)."""

    list_display = ("registration", "store", "manage_number", "variant_id", "merchant_sku_id")
    list_filter = ("store",)
    search_fields = ("registration__sku__sku_id", "manage_number", "variant_id", "merchant_sku_id")
    list_select_related = ("registration", "store")


@admin.register(RakutenOrderConfirmation)
class RakutenOrderConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("order", "store", "status", "attempts", "next_at")
    list_filter = ("status", "store")
    search_fields = ("order__order_number",)
    list_select_related = ("order",)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("sync.view_order")
