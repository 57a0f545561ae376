from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from events.models import AuditLog, InventoryEvent, InventorySnapshot, PendingPush
from events.selectors import audit_search, event_search, sku_prefix_search
from inventory_site.admin_mixins import ReadOnlyAdmin
from skus.pagination import LargeTablePaginator

SKU_SEARCH_HELP = _(
    "Matches a SKU id exactly or by its beginning (not in the middle). Counts above "
    "10,000 are estimates."
)


@admin.register(InventoryEvent)
class InventoryEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "sku",
        "quantity",
        "balance_after",
        "oversold",
        "store",
        "order_id",
        "operator",
        "source",
    )
    list_filter = ("event_type", "source", "oversold", "store")
    # Read by get_search_results below, not as Django's substring search.
    search_fields = ("sku__sku_id", "order_id", "token", "operator")
    search_help_text = _(
        "Matches a SKU id or an order id exactly or by its beginning (not in the middle), "
        "or an idempotency token exactly. operator:NAME lists the events of operator NAME "
        "(or of operators whose name begins with it). Counts above 10,000 are estimates."
    )
    list_select_related = ("sku", "store")
    show_full_result_count = False
    paginator = LargeTablePaginator
    # Newest first (then by id, which Django adds): a backward scan of inv_events_time.
    ordering = ("-created_at",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[InventoryEvent], search_term: str
    ) -> tuple[QuerySet[InventoryEvent], bool]:
        return event_search(queryset, search_term), False


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("sku", "internal_available", "updated_at")
    search_fields = ("sku__sku_id",)
    search_help_text = SKU_SEARCH_HELP
    list_select_related = ("sku",)
    show_full_result_count = False
    paginator = LargeTablePaginator
    ordering = ("sku",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[InventorySnapshot], search_term: str
    ) -> tuple[QuerySet[InventorySnapshot], bool]:
        return sku_prefix_search(queryset, search_term), False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "action", "ip", "details")
    list_filter = ("action", "created_at")
    search_fields = ("user", "action")
    search_help_text = _(
        "Matches a user name or an action code (such as stock.adjust) exactly or by its "
        "beginning. Counts above 10,000 are estimates."
    )
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditLog], search_term: str
    ) -> tuple[QuerySet[AuditLog], bool]:
        return audit_search(queryset, search_term), False


@admin.register(PendingPush)
class PendingPushAdmin(ReadOnlyAdmin):
    list_display = (
        "store",
        "sku",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "requested_at",
    )
    list_filter = ("status", "store")
    search_fields = ("sku__sku_id",)
    search_help_text = SKU_SEARCH_HELP
    list_select_related = ("store", "sku")
    show_full_result_count = False
    paginator = LargeTablePaginator
    actions = ["retry"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PendingPush], search_term: str
    ) -> tuple[QuerySet[PendingPush], bool]:
        return sku_prefix_search(queryset, search_term), False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("events.change_pendingpush")

    @admin.action(description=_("Retry the selected failed pushes now"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[PendingPush]) -> None:
        from events.services import failed_retry

        count = 0
        for store_id, sku_ids in _by_store(queryset.filter(status=PendingPush.Status.FAILED)):
            count += failed_retry(store_id=store_id, sku_ids=sku_ids)
        self.message_user(request, _("%(count)d pushes will be retried.") % {"count": count})

    @admin.display(description=_("last error"))
    def short_error(self, obj: PendingPush) -> str:
        return obj.last_error[:120]


def _by_store(queryset: QuerySet[PendingPush]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for store_id, sku_id in queryset.values_list("store_id", "sku_id"):
        grouped.setdefault(store_id, []).append(sku_id)
    return list(grouped.items())
