"""The admin of purchases, their items and official accounts: every write goes through
``purchasing.services`` (so an item marked arrived here adds its stock, audited), and
nothing is deleted here: purchases are soft-deleted by an action."""

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory_site.admin_mixins import ServiceAdmin
from inventory_site.errors import InventoryError
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from purchasing.selectors import item_count
from purchasing.services import (
    ACCOUNT_EDITABLE_FIELDS,
    ITEM_EDITABLE_FIELDS,
    PURCHASE_EDITABLE_FIELDS,
    item_add,
    item_update,
    items_mark_arrived,
    official_account_create,
    official_account_update,
    purchase_create,
    purchase_delete,
    purchase_restore,
    purchase_update,
)

PURCHASE_LOCK_FIELDS = ("is_locked", "locked_at", "locked_by_worker")


class NoDeleteAdmin(ServiceAdmin):
    """Rows of purchasing are never deleted from the admin; a service's refusal on the
    change form (e.g. taking back units already sold) is shown, not a server error."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except InventoryError as exc:  # the admin's transaction rolled back
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(OfficialAccount)
class OfficialAccountAdmin(NoDeleteAdmin):
    list_display = ("account_id", "name", "email", "purchases", "updated_at")
    search_fields = ("account_id", "name", "email")
    fields = ("account_id", "name", "email", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OfficialAccount]:
        return super().get_queryset(request).annotate(purchase_count=Count("purchasing_orders"))

    @admin.display(description=_("purchases"), ordering="purchase_count")
    def purchases(self, obj: OfficialAccount) -> int:
        return obj.purchase_count

    def save_model(
        self, request: HttpRequest, obj: OfficialAccount, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in ACCOUNT_EDITABLE_FIELDS}
            official_account_update(account_pk=obj.pk, actor=self.actor(request), **changes)
        else:
            created = official_account_create(
                account_id=data["account_id"],
                email=data.get("email") or "",
                name=data.get("name") or "",
                actor=self.actor(request),
            )
            obj.pk = created.pk


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted purchases are hidden unless asked for."""

    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("live", _("not deleted")),
            ("deleted", _("deleted only")),
            ("all", _("all, deleted too")),
        ]

    def current(self) -> str:
        return self.value() if self.value() in ("live", "deleted", "all") else "live"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Purchasing]) -> QuerySet:
        if self.current() == "live":
            return queryset.filter(is_deleted=False)
        if self.current() == "deleted":
            return queryset.filter(is_deleted=True)
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.current() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class InventoryItemInline(admin.TabularInline):
    """A purchase's items, read here and changed on their own page (through the
    service, so that arrivals reach the stock)."""

    model = InventoryItem
    fk_name = "purchase"
    fields = ("uuid", "flag", "status", "product_type", "sku", "quantity", "received_quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purchasing)
class PurchasingAdmin(NoDeleteAdmin):
    list_display = (
        "order_number",
        "uuid",
        "official_account",
        "delivery_status",
        "tracking_number",
        "batch_encoding",
        "inventory_count",
        "is_locked",
        "locked_by_worker",
        "is_deleted",
        "created_at",
    )
    list_filter = (DeletedFilter, "delivery_status", "is_locked", "official_account")
    search_fields = ("uuid", "order_number", "tracking_number", "account_used", "batch_encoding")
    list_select_related = ("official_account",)
    autocomplete_fields = ("official_account",)
    readonly_fields = (
        "uuid",
        "created_at",
        "updated_at",
        *PURCHASE_LOCK_FIELDS,
        "is_deleted",
        "inventory_count",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "uuid",
                    "order_number",
                    "official_account",
                    "account_used",
                    "payment_method",
                    "creation_source",
                )
            },
        ),
        (
            _("Batch"),
            {"fields": ("batch_encoding", "batch_level_1", "batch_level_2", "batch_level_3")},
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "delivery_status",
                    "latest_delivery_status",
                    "delivery_status_query_time",
                    "delivery_status_query_source",
                    "confirmed_at",
                    "shipped_at",
                    "estimated_website_arrival_date",
                    "estimated_website_arrival_date_2",
                    "tracking_number",
                    "estimated_delivery_date",
                    "shipping_method",
                    "official_query_url",
                    "last_info_updated_at",
                )
            },
        ),
        (
            _("State"),
            {
                "fields": (
                    "inventory_count",
                    *PURCHASE_LOCK_FIELDS,
                    "is_deleted",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    inlines = [InventoryItemInline]
    actions = ["soft_delete", "restore"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Purchasing]:
        return super().get_queryset(request).annotate(item_count=item_count())

    @admin.display(description=_("items"), ordering="item_count")
    def inventory_count(self, obj: Purchasing) -> int:
        return obj.item_count

    def save_model(
        self, request: HttpRequest, obj: Purchasing, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        fields = [f for f in form.changed_data if f in PURCHASE_EDITABLE_FIELDS]
        if change:
            purchase_update(
                purchase_id=obj.pk, actor=self.actor(request), **{f: data[f] for f in fields}
            )
        else:
            created = purchase_create(actor=self.actor(request), **{f: data[f] for f in fields})
            obj.pk, obj.uuid = created.pk, created.uuid

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Purchasing],
        service: Callable[..., Purchasing],
    ) -> int:
        done = 0
        for purchase_id in queryset.values_list("pk", flat=True):
            if self.run_service(
                request,
                lambda purchase_id=purchase_id: service(
                    purchase_id=purchase_id, actor=self.actor(request)
                ),
            ):
                done += 1
        return done

    @admin.action(description=_("Soft-delete selected purchases"), permissions=["change"])
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Purchasing]) -> None:
        done = self._each(request, queryset.filter(is_deleted=False), purchase_delete)
        self.message_user(
            request,
            ngettext("%(n)d purchase deleted.", "%(n)d purchases deleted.", done) % {"n": done},
        )

    @admin.action(description=_("Restore selected deleted purchases"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Purchasing]) -> None:
        done = self._each(request, queryset.filter(is_deleted=True), purchase_restore)
        self.message_user(
            request,
            ngettext("%(n)d purchase restored.", "%(n)d purchases restored.", done) % {"n": done},
        )


@admin.register(InventoryItem)
class InventoryItemAdmin(NoDeleteAdmin):
    list_display = (
        "uuid",
        "purchase",
        "flag",
        "status",
        "product_type",
        "sku",
        "quantity",
        "received_quantity",
        "created_at",
    )
    list_filter = ("status", "product_type")
    search_fields = ("uuid", "flag", "purchase__order_number", "purchase__uuid", "sku__sku_id")
    list_select_related = ("purchase", "sku")
    autocomplete_fields = ("purchase", "sku")
    fields = (
        "purchase",
        "uuid",
        "flag",
        "status",
        "product_type",
        "sku",
        "quantity",
        "received_sku",
        "received_quantity",
        "receipt_revision",
        "created_at",
        "updated_at",
    )
    actions = ["mark_arrived"]
    show_full_result_count = False

    def get_readonly_fields(
        self, request: HttpRequest, obj: InventoryItem | None = None
    ) -> tuple[str, ...]:
        counters = ("received_sku", "received_quantity", "receipt_revision")
        if obj is None:
            return ("uuid", *counters, "created_at", "updated_at")
        return ("purchase", "uuid", *counters, "created_at", "updated_at")

    def save_model(
        self, request: HttpRequest, obj: InventoryItem, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        sku = data.get("sku")
        if change:
            changes = {
                ("sku_id" if f == "sku" else f): (sku.pk if sku else None)
                if f == "sku"
                else data[f]
                for f in form.changed_data
                if f == "sku" or f in ITEM_EDITABLE_FIELDS
            }
            item_update(item_id=obj.pk, actor=self.actor(request), **changes)
        else:
            created = item_add(
                purchase_id=data["purchase"].pk,
                sku_id=sku.pk if sku else None,
                quantity=data["quantity"],
                flag=data.get("flag") or "",
                status=data["status"],
                product_type=data.get("product_type") or None,
                actor=self.actor(request),
            )
            obj.pk, obj.uuid = created.pk, created.uuid

    @admin.action(description=_("Mark selected items arrived"), permissions=["change"])
    def mark_arrived(self, request: HttpRequest, queryset: QuerySet[InventoryItem]) -> None:
        item_ids = list(queryset.values_list("pk", flat=True))
        if self.run_service(
            request,
            lambda: items_mark_arrived(item_ids=item_ids, actor=self.actor(request)),
        ):
            self.message_user(
                request,
                ngettext("%(n)d item marked arrived.", "%(n)d items marked arrived.", len(item_ids))
                % {"n": len(item_ids)},
            )
