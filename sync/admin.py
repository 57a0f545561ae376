from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin

from .models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "store", "kind", "status", "counts", "finished_at")
    list_filter = ("kind", "status", "store")
    readonly_fields = ("log", "details", "error")
    actions = ["cancel"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.change_syncrun")

    @admin.action(description=_("Ask the selected running runs to stop"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        count = queryset.filter(status=SyncRun.Status.RUNNING).update(cancel_requested=True)
        self.message_user(
            request, _("%(count)d runs will stop after their current page.") % {"count": count}
        )
