import unicodedata
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory_site.admin_mixins import ServiceAdmin
from skus.models import Sku, SkuComponent, SkuSearchText, normalize_sku_id
from skus.pagination import LargeTablePaginator
from skus.services import (
    MSG_SKU_EXISTS,
    SKU_EDITABLE_FIELDS,
    SkuInvalid,
    set_components_check,
    set_define,
    sku_create,
    sku_update,
)
from skus.sets import available_expression
from stores.models import StoreSku


class SkuAdminForm(forms.ModelForm):
    """The SKU id is checked by the rule every path uses (``normalize_sku_id``), with its
    message, and never cut: the input has no ``maxlength`` (a browser would silently keep
    the first 50 characters of a longer id)."""

    sku_id = forms.CharField(label=Sku._meta.get_field("sku_id").verbose_name)

    class Meta:
        model = Sku
        fields = (
            "sku_id",
            "original_sku",
            "sku_name",
            "environment",
            "status",
            "allow_oversell",
            "low_stock_threshold",
            "metadata",
            "aliases",
        )

    def clean_sku_id(self) -> str:
        """The id as typed (its case is kept in ``original_sku`` by ``sku_create``), once
        the service's rules accept it."""
        typed = unicodedata.normalize("NFKC", self.cleaned_data["sku_id"]).strip()
        sku_id = normalize_sku_id(typed)
        if Sku.objects.filter(pk=sku_id).exists():
            raise forms.ValidationError(MSG_SKU_EXISTS, params={"sku_id": sku_id})
        return typed

    def validate_unique(self) -> None:
        """Checked above, with the service's message (Django's would name the field)."""


class SkuComponentFormSet(BaseInlineFormSet):
    """A set's components, checked by the rules ``set_define`` applies (with its
    messages) before anything is saved; saved by ``SkuAdmin.save_formset``."""

    def components(self) -> list[tuple[str, object]]:
        return [
            (form.cleaned_data["component"].sku_id, form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("component") is not None
            and not form.cleaned_data.get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        set_id = self.instance.sku_id or ""
        try:
            set_components_check(normalize_sku_id(set_id) if set_id else "", self.components())
        except (SkuInvalid, forms.ValidationError) as exc:
            raise forms.ValidationError(getattr(exc, "message", str(exc))) from exc


class SkuComponentInline(admin.TabularInline):
    """A set's components (none: not a set); written through ``set_define``."""

    model = SkuComponent
    fk_name = "set"
    formset = SkuComponentFormSet
    fields = ("component", "quantity")
    autocomplete_fields = ("component",)
    extra = 0
    verbose_name = _("set component")
    verbose_name_plural = _("components of this set (a set has no stock of its own)")


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
    form = SkuAdminForm
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
        "low_stock_threshold",
        "metadata",
        "aliases",
        "created_at",
        "updated_at",
    )
    inlines = [SkuComponentInline, StoreSkuInline]
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sku]:
        # What each SKU of the page can sell (a set: what its components allow).
        return super().get_queryset(request).annotate(available_now=available_expression())

    @admin.display(description=_("available"), ordering="snapshot__internal_available")
    def available(self, obj: Sku) -> int | None:
        if hasattr(obj, "available_now"):
            return obj.available_now
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
                low_stock_threshold=data.get("low_stock_threshold"),
                actor=actor,
            )
            if data["status"] == Sku.Status.INACTIVE:
                sku_update(sku_id=created.pk, actor=actor, status=Sku.Status.INACTIVE)
            obj.pk = created.pk

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if isinstance(formset, SkuComponentFormSet):
            set_define(
                sku_id=form.instance.pk, components=formset.components(), actor=self.actor(request)
            )
            # What the admin's history message reads (the audit log has the details).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)

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
