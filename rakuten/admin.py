from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin
from skus.pagination import LargeTablePaginator
from skus.selectors import registrations_of_skus_starting
from sync.models import Order

from .models import RakutenBinding, RakutenOrderConfirmation

# A search by the beginning of an order number lists this many orders' confirmations.
PREFIX_ORDERS_LIMIT = 500


@admin.register(RakutenBinding)
class RakutenBindingAdmin(ReadOnlyAdmin):
    """The RMS ids of registrations (changed through the registration's own page)."""

    list_display = ("registration", "store", "manage_number", "variant_id", "merchant_sku_id")
    list_filter = ("store",)
    search_fields = ("registration__sku__sku_id", "manage_number", "variant_id", "merchant_sku_id")
    search_help_text = _(
        "Matches a SKU id or an item manage number exactly or by its beginning, or a "
        "variant id or merchant SKU id exactly. Counts above 10,000 are estimates."
    )
    list_select_related = ("registration", "store")
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RakutenBinding], search_term: str
    ) -> tuple[QuerySet[RakutenBinding], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = (
            Q(manage_number__startswith=term.lower()) | Q(variant_id=term) | Q(merchant_sku_id=term)
        )
        if registrations := registrations_of_skus_starting(term):
            condition |= Q(registration_id__in=registrations)
        return queryset.filter(condition), False


@admin.register(RakutenOrderConfirmation)
class RakutenOrderConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("order", "store", "status", "attempts", "next_at")
    list_filter = ("status", "store")
    search_fields = ("order__order_number",)
    search_help_text = _(
        "Matches an order number exactly or by its beginning (not in the middle). Counts "
        "above 10,000 are estimates."
    )
    list_select_related = ("order", "store")
    show_full_result_count = False
    paginator = LargeTablePaginator

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("sync.view_order")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RakutenOrderConfirmation], search_term: str
    ) -> tuple[QuerySet[RakutenOrderConfirmation], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        orders = Order.objects.filter(order_number__startswith=term).values_list("id", flat=True)
        return queryset.filter(order_id__in=list(orders[:PREFIX_ORDERS_LIMIT])), False
