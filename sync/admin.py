from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ReadOnlyAdmin, ServiceAdmin
from stores.models import StoreSku

from .models import Order, OrderLine, SyncRun
from .registrations import Registration, registrations_check, store_sku_register
from .registry import binder_for, platforms


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("position", "listing_label", "units", "deleted", "sku")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("order_number", "store", "platform_status", "ordered_at", "final")
    list_filter = ("store", "platform_status", "final", "cancelled")
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


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    """Order lines; filter on "no SKU yet" for the lines waiting for a SKU."""

    list_display = ("order", "listing_label", "units", "sku")
    list_filter = (UnmatchedFilter, "order__store")
    search_fields = ("listing_label", "order__order_number")
    list_select_related = ("order",)


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


def _key_field_name(platform: str, name: str) -> str:
    return f"{platform}__{name}"


class StoreSkuForm(forms.ModelForm):
    """The registration with the keys of every platform's binder; the keys of the
    store's own platform are the ones written (through ``store_sku_register``)."""

    class Meta:
        model = StoreSku
        fields = ("store", "sku", "safety_stock")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        registration = self.instance if self.instance.pk else None
        for platform, adapter in platforms().items():
            current = (
                adapter.binder.keys_of([registration.pk]).get(registration.pk, {})
                if registration is not None and registration.store.platform_type == platform
                else {}
            )
            for key in adapter.binder.fields:
                self.fields[_key_field_name(platform, key.name)] = forms.CharField(
                    label=f"{key.label} ({platform})",
                    max_length=key.max_length * 4,
                    required=False,
                    initial=current.get(key.name, ""),
                )

    def _store(self) -> Any:
        if self.instance.pk:
            return self.instance.store
        return self.cleaned_data.get("store")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        store = self._store()
        sku = self.instance.sku if self.instance.pk else data.get("sku")
        if store is not None and sku is not None:
            errors = registrations_check(
                store,
                [
                    Registration(
                        sku_id=sku.sku_id,
                        keys=self.platform_keys(),
                        safety_stock=data.get("safety_stock"),
                    )
                ],
            )
            if errors:
                raise forms.ValidationError(errors[0])
        return data

    def platform_keys(self) -> dict[str, str]:
        store = self._store()
        binder = binder_for(store.platform_type)
        return {
            key.name: self.cleaned_data.get(_key_field_name(store.platform_type, key.name), "")
            for key in binder.fields
        }


@admin.register(StoreSku)
class StoreSkuAdmin(ServiceAdmin):
    form = StoreSkuForm
    list_display = ("store", "sku", "safety_stock", "last_pushed_quantity", "last_pushed_at")
    list_filter = ("store",)
    search_fields = ("sku__sku_id",)
    list_select_related = ("store", "sku")
    autocomplete_fields = ("sku",)

    def get_readonly_fields(self, request: HttpRequest, obj: StoreSku | None = None) -> tuple:
        return ("store", "sku") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: StoreSku, form: Any, change: bool) -> None:
        registration = store_sku_register(
            store_id=obj.store_id,
            sku_id=obj.sku_id,
            safety_stock=obj.safety_stock,
            actor=self.actor(request),
            **form.platform_keys(),
        )
        obj.pk = registration.pk
