from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin
from skus.pagination import LargeTablePaginator
from skus.selectors import registrations_of_skus_starting

from .models import FutureshopBinding


@admin.register(FutureshopBinding)
class FutureshopBindingAdmin(ReadOnlyAdmin):
    """The futureshop keys of registrations (changed through the registration's own page)."""

    list_display = ("registration", "store", "product_no", "sku_no", "vertical_no", "horizontal_no")
    list_filter = ("store",)
    search_fields = ("registration__sku__sku_id", "product_no", "sku_no")
    search_help_text = _(
        "Matches a SKU id or a product number exactly or by its beginning, or a futureshop "
        "SKU number exactly. Counts above 10,000 are estimates."
    )
    list_select_related = ("registration", "store")
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[FutureshopBinding], search_term: str
    ) -> tuple[QuerySet[FutureshopBinding], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(product_no__startswith=term) | Q(sku_no=term)
        if registrations := registrations_of_skus_starting(term):
            condition |= Q(registration_id__in=registrations)
        return queryset.filter(condition), False
