from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin

from .models import RakutenOrder, RakutenOrderLine


class OrderLineInline(admin.TabularInline):
    model = RakutenOrderLine
    fields = (
        "position",
        "manage_number",
        "variant_id",
        "merchant_sku_id",
        "units",
        "deleted",
        "sku",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RakutenOrder)
class RakutenOrderAdmin(ReadOnlyAdmin):
    list_display = ("order_number", "store", "progress", "ordered_at", "final", "confirm_status")
    list_filter = ("store", "progress", "final", "confirm_status")
    search_fields = ("order_number",)
    inlines = [OrderLineInline]
    show_full_result_count = False


class UnmatchedFilter(admin.SimpleListFilter):
    title = _("matched")
    parameter_name = "matched"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", _("no SKU yet")), ("yes", _("matched"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("no", "yes"):
            return queryset.filter(sku__isnull=self.value() == "no")
        return queryset


@admin.register(RakutenOrderLine)
class RakutenOrderLineAdmin(ReadOnlyAdmin):
    """Order lines; filter on "no SKU yet" for the lines waiting for a SKU."""

    list_display = ("order", "manage_number", "variant_id", "merchant_sku_id", "units", "sku")
    list_filter = (UnmatchedFilter, "order__store")
    search_fields = ("variant_id", "manage_number", "merchant_sku_id", "order__order_number")
    list_select_related = ("order",)
