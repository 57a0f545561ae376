from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from events.models import AuditLog, InventoryEvent, InventorySnapshot, PendingPush
from inventory_site.admin_mixins import ReadOnlyAdmin


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
    search_fields = ("sku__sku_id", "order_id", "token", "operator")
    list_select_related = ("sku", "store")
    show_full_result_count = False
    ordering = ("-created_at",)


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("sku", "internal_available", "updated_at")
    search_fields = ("sku__sku_id",)
    list_select_related = ("sku",)
    show_full_result_count = False
    ordering = ("sku",)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "action", "ip", "details")
    list_filter = ("action", "created_at")
    search_fields = ("user", "action")
    show_full_result_count = False


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
    list_select_related = ("store", "sku")
    actions = ["retry"]

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
