from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory_site.admin_mixins import ServiceAdmin
from stores.crypto import CredentialDecryptError
from stores.models import Store
from stores.services import (
    STORE_EDITABLE_FIELDS,
    store_create,
    store_credentials_set,
    store_update,
)

SECRET_HELP = _("Write-only: leave blank to keep the current value. It is stored encrypted.")


def secret_field(label: str) -> forms.CharField:
    """A write-only credential input: never rendered back into the page."""
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=SECRET_HELP,
    )


class StoreAdminForm(forms.ModelForm):
    """Credentials are write-only fields: never rendered back into the page."""

    service_secret = secret_field(_("RMS service secret"))
    license_key = secret_field(_("RMS licence key"))

    class Meta:
        model = Store
        fields = ("store_id", "store_name", "platform_type", "status", "safety_stock", "api_config")


@admin.register(Store)
class StoreAdmin(ServiceAdmin):
    form = StoreAdminForm
    list_display = (
        "store_id",
        "store_name",
        "platform_type",
        "status",
        "safety_stock",
        "credentials",
        "last_sku_sync_at",
    )
    list_filter = ("platform_type", "status")
    search_fields = ("store_id", "store_name")
    readonly_fields = (
        "service_secret_shown",
        "license_key_shown",
        "last_sku_sync_at",
        "created_at",
    )

    def get_fields(self, request: HttpRequest, obj: Store | None = None) -> list[str]:
        fields = ["store_id", "store_name", "platform_type", "status", "safety_stock", "api_config"]
        if obj is not None:
            fields += ["service_secret_shown", "license_key_shown"]
        fields += ["service_secret", "license_key"]
        if obj is not None:
            fields += ["last_sku_sync_at", "created_at"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> tuple:
        if obj is None:
            return ()
        return ("store_id", "platform_type", *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Events and registrations refer to stores: deactivate one instead.
        return False

    @staticmethod
    def _masked(reader: Any) -> str:
        try:
            return reader() or "—"
        except CredentialDecryptError:
            return str(_("cannot be decrypted: enter it again"))

    @admin.display(description=_("service secret"))
    def service_secret_shown(self, obj: Store) -> str:
        return self._masked(lambda: obj.service_secret_masked)

    @admin.display(description=_("licence key"))
    def license_key_shown(self, obj: Store) -> str:
        return self._masked(lambda: obj.license_key_masked)

    @admin.display(description=_("credentials"), boolean=True)
    def credentials(self, obj: Store) -> bool:
        return obj.has_credentials

    def save_model(self, request: HttpRequest, obj: Store, form: Any, change: bool) -> None:
        actor = self.actor(request)
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in STORE_EDITABLE_FIELDS}
            if changes:
                store_update(store_id=obj.pk, actor=actor, **changes)
            store_credentials_set(
                store_id=obj.pk,
                actor=actor,
                service_secret=data.get("service_secret"),
                license_key=data.get("license_key"),
            )
        else:
            store_create(
                store_id=data["store_id"],
                store_name=data["store_name"],
                platform_type=data["platform_type"],
                status=data.get("status") or Store.Status.ACTIVE,
                api_config=data.get("api_config") or {},
                safety_stock=data.get("safety_stock") or 0,
                service_secret=data.get("service_secret") or "",
                license_key=data.get("license_key") or "",
                actor=actor,
            )
