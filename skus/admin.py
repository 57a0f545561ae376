from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory_site.admin_mixins import ServiceAdmin
from skus.models import Sku, SkuSearchText
from skus.pagination import LargeTablePaginator
from skus.services import SKU_EDITABLE_FIELDS, sku_create, sku_update
from stores.models import StoreSku


class StoreSkuInline(admin.TabularInline):
    model = StoreSku
    fields = ("store", "safety_stock", "last_pushed_quantity", "last_pushed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Sku)
class SkuAdmin(ServiceAdmin):
    list_display = (
        "sku_id",
        "original_sku",
        "sku_name",
        "available",
        "environment",
        "status",
        "allow_oversell",
    )
    list_filter = ("environment", "status", "allow_oversell", "registrations__store")
    search_fields = ("sku_id", "original_sku", "sku_name")
    search_help_text = _(
        "Matches anywhere in the SKU id or the name, in any case (one trigram index scan "
        "on PostgreSQL)."
    )
    list_select_related = ("snapshot",)
    paginator = LargeTablePaginator
    fields = (
        "sku_id",
        "original_sku",
        "sku_name",
        "environment",
        "status",
        "allow_oversell",
        "metadata",
        "aliases",
        "created_at",
        "updated_at",
    )
    inlines = [StoreSkuInline]
    actions = ["mark_inactive", "mark_active"]
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Sku], search_term: str
    ) -> tuple[QuerySet[Sku], bool]:
        """The SKU list's search (also behind the SKU autocomplete of other forms): one
        condition on the id and name together, which the trigram index answers."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.alias(search_text=SkuSearchText()).filter(
            search_text__icontains=term
        ), False

    def get_readonly_fields(self, request: HttpRequest, obj: Sku | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("original_sku", "created_at", "updated_at")
        return ("sku_id", "created_at", "updated_at")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("available"), ordering="snapshot__internal_available")
    def available(self, obj: Sku) -> int | None:
        snapshot = getattr(obj, "snapshot", None)
        return snapshot.internal_available if snapshot is not None else None

    def save_model(self, request: HttpRequest, obj: Sku, form: ModelForm, change: bool) -> None:
        actor = self.actor(request)
        if change:
            changes = {
                field: form.cleaned_data[field]
                for field in form.changed_data
                if field in SKU_EDITABLE_FIELDS
            }
            sku_update(sku_id=obj.pk, actor=actor, **changes)
        else:
            data = form.cleaned_data
            created = sku_create(
                sku_id=data["sku_id"],
                sku_name=data["sku_name"],
                environment=data["environment"],
                allow_oversell=data["allow_oversell"],
                metadata=data.get("metadata") or {},
                aliases=data.get("aliases") or {},
                actor=actor,
            )
            if data["status"] == Sku.Status.INACTIVE:
                sku_update(sku_id=created.pk, actor=actor, status=Sku.Status.INACTIVE)
            obj.pk = created.pk

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Sku], status: str) -> None:
        done = 0
        for sku_id in queryset.values_list("sku_id", flat=True):
            if self.run_service(
                request,
                lambda sku_id=sku_id: sku_update(
                    sku_id=sku_id, actor=self.actor(request), status=status
                ),
            ):
                done += 1
        self.message_user(
            request, ngettext("%(n)d SKU updated.", "%(n)d SKUs updated.", done) % {"n": done}
        )

    @admin.action(description=_("Mark selected SKUs inactive"), permissions=["change"])
    def mark_inactive(self, request: HttpRequest, queryset: QuerySet[Sku]) -> None:
        self._set_status(request, queryset, Sku.Status.INACTIVE)

    @admin.action(description=_("Mark selected SKUs active"), permissions=["change"])
    def mark_active(self, request: HttpRequest, queryset: QuerySet[Sku]) -> None:
        self._set_status(request, queryset, Sku.Status.ACTIVE)
