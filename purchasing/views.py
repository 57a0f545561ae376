"""Staff pages: the purchases with their filters, a purchase with its items (bulk
arrival and one item's status, through the services), and the SKU page's incoming panel."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from events.actors import Actor
from inventory_site.errors import InventoryError
from skus.models import Sku
from skus.panels import SkuPanel

from .models import InventoryItem, OfficialAccount, Purchasing
from .selectors import purchase_items
from .services import item_status_set, items_mark_arrived

VIEW_PURCHASES = "purchasing.view_purchasing"
CHANGE_ITEMS = "purchasing.change_inventoryitem"
PAGE_SIZE = 50
PANEL_PURCHASES = 20

# Spec 001's exact-match filters that are free text.
TEXT_FILTERS = (
    "order_number",
    "tracking_number",
    "payment_method",
    "batch_encoding",
    "batch_level_1",
    "batch_level_2",
    "batch_level_3",
    "creation_source",
)
# What ``q`` searches (the spec's ``search``).
SEARCH_FIELDS = ("uuid", "order_number", "tracking_number", "account_used", "batch_encoding")
DETAIL_FIELDS = (
    "uuid",
    "order_number",
    "official_account",
    "account_used",
    "payment_method",
    "creation_source",
    "batch_encoding",
    "batch_level_1",
    "batch_level_2",
    "batch_level_3",
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
    "is_locked",
    "locked_at",
    "locked_by_worker",
    "is_deleted",
    "created_at",
    "updated_at",
)


def _context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


def _label(name: str) -> str:
    return str(Purchasing._meta.get_field(name).verbose_name)


def _yes_no(value: str) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get(value.lower())


def purchases_filtered(params: QueryDict) -> QuerySet[Purchasing]:
    """Purchases as the list's GET fields ask, newest first, each with ``item_count``
    and ``arrived_count``; soft-deleted ones only with ``is_deleted=true`` (or ``all``).
    A fixed number of queries, however many rows."""
    deleted = params.get("is_deleted", "")
    purchases = Purchasing.objects.all()
    if deleted != "all":
        purchases = purchases.filter(is_deleted=bool(_yes_no(deleted)))
    if (locked := _yes_no(params.get("is_locked", ""))) is not None:
        purchases = purchases.filter(is_locked=locked)
    if (status := params.get("delivery_status", "")) in Purchasing.DeliveryStatus.values:
        purchases = purchases.filter(delivery_status=status)
    if (account := params.get("official_account", "")).isdigit():
        purchases = purchases.filter(official_account_id=int(account))
    for name in TEXT_FILTERS:
        if value := params.get(name, "").strip():
            purchases = purchases.filter(**{name: value})
    if q := params.get("q", "").strip():
        match = Q()
        for name in SEARCH_FIELDS:
            match |= Q(**{f"{name}__icontains": q})
        purchases = purchases.filter(match)
    return purchases.select_related("official_account").order_by("-created_at", "-pk")


def _counted(purchases: list[Purchasing]) -> list[Purchasing]:
    """Each purchase of a page with ``item_count`` and ``arrived_count``: one grouped query
    over the page's items (counting in the list's query would count every purchase a deep
    page skips: bench_purchasing)."""
    counts = {
        row["purchase_id"]: row
        for row in InventoryItem.objects.filter(purchase_id__in=[p.pk for p in purchases])
        .values("purchase_id")
        .annotate(
            items=Count("pk"), arrived=Count("pk", filter=Q(status=InventoryItem.Status.ARRIVED))
        )
    }
    for purchase in purchases:
        row = counts.get(purchase.pk, {})
        purchase.item_count = row.get("items", 0)
        purchase.arrived_count = row.get("arrived", 0)
    return purchases


@staff_member_required
@permission_required(VIEW_PURCHASES, raise_exception=True)
def purchase_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    page = Paginator(purchases_filtered(params), PAGE_SIZE).get_page(params.get("page"))
    page.object_list = _counted(list(page.object_list))
    query = params.copy()
    query.pop("page", None)
    context = _context(request, _("Purchases"))
    context.update(
        page=page,
        params=params,
        query=query.urlencode(),
        text_filters=[(name, _label(name), params.get(name, "")) for name in TEXT_FILTERS],
        labels={name: _label(name) for name in DETAIL_FIELDS},
        statuses=Purchasing.DeliveryStatus.choices,
        accounts=OfficialAccount.objects.order_by("account_id"),
    )
    return render(request, "purchasing/list.html", context)


@staff_member_required
@permission_required(VIEW_PURCHASES, raise_exception=True)
def purchase_detail(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = get_object_or_404(
        Purchasing.objects.select_related("official_account"), pk=purchase_id
    )
    fields = []
    for name in DETAIL_FIELDS:
        field = Purchasing._meta.get_field(name)
        value = (
            getattr(purchase, f"get_{name}_display")() if field.choices else getattr(purchase, name)
        )
        fields.append((field.verbose_name, value))
    context = _context(request, str(purchase))
    context.update(
        purchase=purchase,
        fields=fields,
        items=purchase_items(purchase_id=purchase.pk),
        statuses=InventoryItem.Status.choices,
        can_change=request.user.has_perm(CHANGE_ITEMS),
    )
    return render(request, "purchasing/detail.html", context)


def _item_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST by staff who may change purchase items."""
    return require_POST(
        staff_member_required(permission_required(CHANGE_ITEMS, raise_exception=True)(view))
    )


@_item_action
def purchase_items_arrive(request: HttpRequest, purchase_id: int) -> HttpResponse:
    """Mark the ticked items of this purchase arrived: all or none."""
    purchase = get_object_or_404(Purchasing, pk=purchase_id)
    wanted = [int(v) for v in request.POST.getlist("item") if v.isdigit()]
    item_ids = list(
        InventoryItem.objects.filter(purchase=purchase, pk__in=wanted).values_list("pk", flat=True)
    )
    if not item_ids:
        messages.warning(request, _("Select at least one item."))
        return redirect("purchasing:detail", purchase_id=purchase.pk)
    try:
        items_mark_arrived(item_ids=item_ids, actor=Actor.from_request(request))
    except InventoryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext("%(n)d item marked arrived.", "%(n)d items marked arrived.", len(item_ids))
            % {"n": len(item_ids)},
        )
    return redirect("purchasing:detail", purchase_id=purchase.pk)


@_item_action
def purchase_item_status(request: HttpRequest, purchase_id: int, item_id: int) -> HttpResponse:
    """Set one item's status; arriving adds its units, leaving arrived takes them back."""
    item = get_object_or_404(InventoryItem, pk=item_id, purchase_id=purchase_id)
    status = request.POST.get("status", "")
    if status not in InventoryItem.Status.values:
        messages.error(request, _("Choose a status."))
        return redirect("purchasing:detail", purchase_id=purchase_id)
    try:
        item_status_set(item_id=item.pk, status=status, actor=Actor.from_request(request))
    except InventoryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Item %(item)s is now “%(status)s”.")
            % {"item": item, "status": InventoryItem.Status(status).label},
        )
    return redirect("purchasing:detail", purchase_id=purchase_id)


def incoming_panel(sku: Sku) -> SkuPanel:
    """The SKU page's "incoming": units of in-transit items linked to the SKU, by purchase
    (soft-deleted purchases are not expected to arrive). Two queries."""
    in_transit = InventoryItem.objects.filter(
        sku=sku, status=InventoryItem.Status.IN_TRANSIT, purchase__is_deleted=False
    )
    purchases = list(
        in_transit.values("purchase_id", "purchase__order_number", "purchase__uuid")
        .annotate(units=Sum("quantity"), items=Count("pk"))
        .order_by("-purchase__created_at", "-purchase_id")[:PANEL_PURCHASES]
    )
    total = in_transit.aggregate(units=Sum("quantity"))["units"] or 0
    return SkuPanel(
        title=_("Incoming"),
        template="purchasing/sku_panel.html",
        context={"units": total, "purchases": purchases, "limit": PANEL_PURCHASES},
    )
