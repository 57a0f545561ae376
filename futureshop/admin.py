from django.contrib import admin

from inventory_site.admin_mixins import ReadOnlyAdmin

from .models import FutureshopBinding


@admin.register(FutureshopBinding)
class FutureshopBindingAdmin(ReadOnlyAdmin):
    """The futureshop keys of registrations (changed through the registration's own page)."""

    list_display = ("registration", "store", "product_no", "sku_no", "vertical_no", "horizontal_no")
    list_filter = ("store",)
    search_fields = ("registration__sku__sku_id", "product_no", "sku_no")
    list_select_related = ("registration", "store")
