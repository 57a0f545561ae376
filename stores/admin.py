"""The allocation rules in the admin (the stores themselves are in sync.admin, beside
their platforms' credentials). Every write goes through ``stores.services``: audited, and
what a rule covers is pushed again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ServiceAdmin
from stores.models import AllocationRule
from stores.services import (
    StoreInvalid,
    allocation_rule_check,
    allocation_rule_delete,
    allocation_rule_save,
)


class AllocationRuleForm(forms.ModelForm):
    class Meta:
        model = AllocationRule
        fields = ("store", "sku", "kind", "value", "starts_at", "ends_at", "note")

    def validate_unique(self) -> None:
        """Instead of the database constraints' generic messages (Django checks them
        here, on the filled-in instance): the service's, which say what to do."""
        try:
            allocation_rule_check(self.instance)
        except StoreInvalid as exc:
            self.add_error(None, exc.message)


@admin.register(AllocationRule)
class AllocationRuleAdmin(ServiceAdmin):
    form = AllocationRuleForm
    list_display = ("store", "sku_shown", "kind", "value", "starts_at", "ends_at", "note")
    list_filter = ("store", "kind")
    search_fields = ("sku__sku_id", "note")
    autocomplete_fields = ("sku",)
    list_select_related = ("store", "sku")

    @admin.display(description=_("SKU"), ordering="sku_id")
    def sku_shown(self, rule: AllocationRule) -> str:
        return rule.sku_id or str(_("every SKU of the store"))

    def save_model(
        self, request: HttpRequest, obj: AllocationRule, form: Any, change: bool
    ) -> None:
        saved = allocation_rule_save(
            actor=self.actor(request),
            store_id=obj.store_id,
            sku_id=obj.sku_id,
            kind=obj.kind,
            value=obj.value,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            note=obj.note,
            rule_id=obj.pk if change else None,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: AllocationRule) -> None:
        allocation_rule_delete(actor=self.actor(request), rule_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AllocationRule]) -> None:
        for rule_id in queryset.values_list("pk", flat=True):
            allocation_rule_delete(actor=self.actor(request), rule_id=rule_id)
