from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.selectors import sku_prefix_search
from inventory_site.admin_mixins import ReadOnlyAdmin, ServiceAdmin
from skus.pagination import LargeTablePaginator
from skus.selectors import sku_search_key
from stores.models import Store, StoreSku
from stores.services import (
    STORE_EDITABLE_FIELDS,
    store_create,
    store_credentials_set,
    store_update,
)

from .adapters import BindingInvalid
from .models import Order, OrderLine, QuarantinedOrder, SyncRun
from .registrations import Registration, registrations_check, store_sku_register
from .registry import adapter_class, api_url_problem, binder_for, platforms


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("position", "listing_label", "units", "deleted", "sku")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# The admin's lists over orders, lines and runs grow by the thousand a day: searches match
# the beginning of a value (an index range), never its middle (a scan of every row), and
# counts stop at 10,000 (then PostgreSQL's estimate).
ORDER_SEARCH_HELP = _(
    "Matches an order number exactly or by its beginning (not in the middle). Counts "
    "above 10,000 are estimates."
)


# A search by the beginning of an order number lists the lines of this many orders at most.
PREFIX_ORDERS_LIMIT = 500


class PlatformStatusFilter(admin.SimpleListFilter):
    """The platform statuses of the newest orders (Django's own filter lists every value
    with a DISTINCT that reads the whole table on every view of the list)."""

    title = _("status on the platform")
    parameter_name = "platform_status"
    recent = 10_000

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        newest = Order.objects.order_by("-id").values_list("platform_status", flat=True)
        values = set(newest[: self.recent]) | ({self.value()} if self.value() else set())
        return [(value, value) for value in sorted(values)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value():
            return queryset.filter(platform_status=self.value())
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("order_number", "store", "platform_status", "ordered_at", "final")
    list_filter = ("store", PlatformStatusFilter, "final", "cancelled")
    search_fields = ("order_number",)
    search_help_text = ORDER_SEARCH_HELP
    list_select_related = ("store",)
    inlines = [OrderLineInline]
    show_full_result_count = False
    paginator = LargeTablePaginator
    ordering = ("-ordered_at", "-id")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(order_number__startswith=term), False


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
    search_help_text = _(
        "Matches an order number or a SKU id exactly or by its beginning (not in the "
        "middle), and the listing of lines with no SKU yet by its beginning. Counts above "
        "10,000 are estimates."
    )
    list_select_related = ("order", "sku")
    show_full_result_count = False
    paginator = LargeTablePaginator
    # The newest orders' lines first, by the (order, position) key: an index scan (the
    # model's order by "order" would sort every line by its order's time).
    ordering = ("-order_id", "position")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OrderLine], search_term: str
    ) -> tuple[QuerySet[OrderLine], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # Each part on its own index, so the database reads only what matches: the orders
        # found first by number, the SKU's lines, the unmatched lines by their listing.
        orders = list(
            Order.objects.filter(order_number__startswith=term)
            .order_by("-id")
            .values_list("id", flat=True)[:PREFIX_ORDERS_LIMIT]
        )
        condition = Q(order_id__in=orders) | Q(sku__isnull=True, listing_label__startswith=term)
        if key := sku_search_key(term):
            condition |= Q(sku__sku_id__startswith=key)
        return queryset.filter(condition), False


@admin.register(QuarantinedOrder)
class QuarantinedOrderAdmin(ReadOnlyAdmin):
    list_display = ("order_number", "store", "status", "attempts", "last_seen_at", "reason")
    list_filter = ("status", "store")
    # Few rows (orders set aside), so the reason is searched anywhere in it.
    search_fields = ("order_number", "reason")
    list_select_related = ("store",)


# The admin shows the newest lines of a run's log; the run page streams all of them.
RUN_LOG_LINES = 500


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "store", "kind", "status", "counts_shown", "finished_at")
    list_filter = ("kind", "status", "store")
    list_select_related = ("store",)
    fields = (
        "store",
        "kind",
        "status",
        "operator",
        "started_at",
        "finished_at",
        "cancel_requested",
        "counts_shown",
        "run_page",
        "log_shown",
        "details",
        "error",
    )
    readonly_fields = ("counts_shown", "run_page", "log_shown")
    actions = ["cancel"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    ordering = ("-started_at", "-id")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.change_syncrun")

    @admin.action(description=_("Ask the selected running runs to stop"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        count = queryset.filter(status=SyncRun.Status.RUNNING).update(cancel_requested=True)
        self.message_user(
            request,
            ngettext(
                "%(count)d run will stop after its current page.",
                "%(count)d runs will stop after their current page.",
                count,
            )
            % {"count": count},
        )

    @admin.display(description=_("counts"))
    def counts_shown(self, obj: SyncRun) -> str:
        """What the run did, in the words of the run pages (not its JSON keys)."""
        return obj.counts_text or "–"

    @admin.display(description=_("run page"))
    def run_page(self, obj: SyncRun) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("sync:run", args=[obj.pk]), _("Open the run page")
        )

    @admin.display(description=_("log"))
    def log_shown(self, obj: SyncRun) -> str:
        """The newest lines of the live log at local time (settings.TIME_ZONE), as the run
        page shows them; a run older than the live log shows the text it kept."""
        events = list(obj.events.order_by("-seq")[:RUN_LOG_LINES])
        if not events:
            return format_html('<pre class="run-log">{}</pre>', obj.log) if obj.log else "–"
        lines = format_html_join(
            "\n",
            '<span class="{}">{} {}</span>',
            (
                (event.level, date_format(localtime(event.at), "H:i:s"), event.text)
                for event in reversed(events)
            ),
        )
        return format_html('<pre class="run-log">{}</pre>', lines)


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
        if registration is None:
            return
        platform = registration.store.platform_type
        current = binder_for(platform).keys_of([registration.pk]).get(registration.pk, {})
        for name, value in current.items():
            self.initial[_key_field_name(platform, name)] = value

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
                self._refuse(store, errors[0])
        return data

    def _refuse(self, store: Any, message: str) -> None:
        """The service's refusal, shown under the key it is about when that key alone
        gets the same refusal from the binder, else above the form."""
        binder = binder_for(store.platform_type)
        for key in binder.fields:
            name = _key_field_name(store.platform_type, key.name)
            try:
                binder.clean({key.name: self.cleaned_data.get(name) or ""})
            except BindingInvalid as exc:
                if str(exc) == message:
                    self.add_error(name, message)
                    return
        raise forms.ValidationError(message)

    def platform_keys(self) -> dict[str, str]:
        store = self._store()
        binder = binder_for(store.platform_type)
        return {
            key.name: self.cleaned_data.get(_key_field_name(store.platform_type, key.name), "")
            for key in binder.fields
        }


def _store_sku_form() -> type[StoreSkuForm]:
    """One input per key of every platform's binder, labelled with the platform's name.
    No ``maxlength``: a browser would cut a longer id silently, and a platform counts
    bytes, not characters; the binder refuses what its platform would, with its message."""
    names = dict(Store.Platform.choices)
    fields = {
        _key_field_name(platform, key.name): forms.CharField(
            label=format_lazy("{} ({})", key.label, names.get(platform, platform)),
            required=False,
        )
        for platform, adapter in platforms().items()
        for key in adapter.binder.fields
    }
    return type("StoreSkuForm", (StoreSkuForm,), fields)


@admin.register(StoreSku)
class StoreSkuAdmin(ServiceAdmin):
    form = StoreSkuForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = _store_sku_form()
        return super().get_form(request, obj, change=change, **kwargs)

    list_display = ("store", "sku", "safety_stock", "last_pushed_quantity", "last_pushed_at")
    list_filter = ("store",)
    search_fields = ("sku__sku_id",)
    search_help_text = _(
        "Matches a SKU id exactly or by its beginning (not in the middle). Counts above "
        "10,000 are estimates."
    )
    list_select_related = ("store", "sku")
    autocomplete_fields = ("sku",)
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[StoreSku], search_term: str
    ) -> tuple[QuerySet[StoreSku], bool]:
        return sku_prefix_search(queryset, search_term), False

    def get_readonly_fields(self, request: HttpRequest, obj: StoreSku | None = None) -> tuple:
        return ("store", "sku") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: StoreSku | None = None) -> list[str]:
        """A registration's page shows the keys of its store's platform only (a new one's,
        every platform's: its store is not chosen yet)."""
        fields = list(super().get_fields(request, obj))
        if obj is None:
            return fields
        own = _key_field_name(obj.store.platform_type, "")
        return [name for name in fields if "__" not in name or name.startswith(own)]

    def save_model(self, request: HttpRequest, obj: StoreSku, form: Any, change: bool) -> None:
        registration = store_sku_register(
            store_id=obj.store_id,
            sku_id=obj.sku_id,
            safety_stock=obj.safety_stock,
            actor=self.actor(request),
            **form.platform_keys(),
        )
        obj.pk = registration.pk


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


def _credential_field_name(platform: str, name: str) -> str:
    return f"{platform}__{name}"


class StoreAdminForm(forms.ModelForm):
    """The credentials every platform's adapter declares, as write-only fields (never
    rendered back into the page); those of the store's own platform are saved."""

    class Meta:
        model = Store
        fields = (
            "store_id",
            "store_name",
            "platform_type",
            "status",
            "safety_stock",
            "reconcile_repairs",
            "api_config",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        platform = data.get("platform_type") or self.instance.platform_type
        api_config = data.get("api_config") or {}
        if platform and isinstance(api_config, dict) and api_config.get("base_url"):
            problem = api_url_problem(platform, str(api_config["base_url"]))
            if problem:
                self.add_error("api_config", problem)
        if platform in platforms():
            for field in adapter_class(platform).credential_fields:
                name = _credential_field_name(platform, field.name)
                value = data.get(name)
                problem = field.check(value) if value and field.check else None
                if problem:
                    self.add_error(name, problem)
        return data

    def credentials_for(self, platform: str) -> dict[str, str]:
        return {
            field.name: self.cleaned_data.get(_credential_field_name(platform, field.name)) or ""
            for field in adapter_class(platform).credential_fields
        }


def _store_form() -> type[StoreAdminForm]:
    """The form with one write-only field per credential of every platform (declared on the
    class, so that the admin lays them out)."""
    fields = {
        _credential_field_name(platform, field.name): secret_field(field.label)
        for platform, adapter in platforms().items()
        for field in adapter.credential_fields
    }
    return type("StoreAdminForm", (StoreAdminForm,), fields)


@admin.register(Store)
class StoreAdmin(ServiceAdmin):
    form = StoreAdminForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = _store_form()
        return super().get_form(request, obj, change=change, **kwargs)

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
    readonly_fields = ("credentials_shown", "last_sku_sync_at", "created_at")

    class Media:
        # Shows only the credentials of the platform chosen in the add form.
        js = ("sync/platform_fields.js",)

    def get_fieldsets(self, request: HttpRequest, obj: Store | None = None) -> list:
        """The store's own fields, then one fieldset of credentials per platform: on a new
        store every platform's (the script shows the chosen one's only), on a store its
        own platform's."""
        fields = [
            "store_id",
            "store_name",
            "platform_type",
            "status",
            "safety_stock",
            "reconcile_repairs",
            "api_config",
        ]
        if obj is not None:
            fields += ["credentials_shown"]
        fieldsets: list = [(None, {"fields": fields})]
        names = dict(Store.Platform.choices)
        for platform in [obj.platform_type] if obj is not None else list(platforms()):
            fieldsets.append(
                (
                    _("%(platform)s credentials") % {"platform": names.get(platform, platform)},
                    {
                        "fields": [
                            _credential_field_name(platform, field.name)
                            for field in adapter_class(platform).credential_fields
                        ],
                        "classes": ["platform-credentials", f"platform-{platform}"],
                    },
                )
            )
        if obj is not None:
            fieldsets.append((None, {"fields": ["last_sku_sync_at", "created_at"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> tuple:
        if obj is None:
            return ()
        return ("store_id", "platform_type", *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Events and registrations refer to stores: deactivate one instead.
        return False

    @admin.display(description=_("credentials"))
    def credentials_shown(self, obj: Store) -> str:
        masked = obj.credentials_masked  # never fails: unreadable ones say so
        return ", ".join(f"{name} {value}" for name, value in masked.items()) or "—"

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
                store_id=obj.pk, actor=actor, credentials=form.credentials_for(obj.platform_type)
            )
        else:
            store_create(
                store_id=data["store_id"],
                store_name=data["store_name"],
                platform_type=data["platform_type"],
                status=data.get("status") or Store.Status.ACTIVE,
                api_config=data.get("api_config") or {},
                safety_stock=data.get("safety_stock") or 0,
                credentials=form.credentials_for(data["platform_type"]),
                actor=actor,
            )
