"""SKU pages: search, and a SKU's stock, timeline, chart, stores and adjustment."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from events.actors import Actor
from events.selectors import sku_events
from events.services import stock_adjust
from inventory_site.errors import InventoryError
from stores.models import Store

from .charts import stock_chart
from .forms import AdjustForm
from .models import Sku
from .pagination import COUNT_LIMIT, count_up_to, keyset_page
from .panels import sku_panels
from .selectors import sku_explain, sku_search
from .sets import availability

CHART_POINTS = 200
SKU_PAGE = 50


def _context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


@staff_member_required
@permission_required("skus.view_sku", raise_exception=True)
def sku_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    skus = sku_search(
        q=params.get("q", "").strip(),
        environment=params.get("environment", ""),
        status=params.get("status", ""),
        store_id=params.get("store", ""),
        oversold=params.get("oversold") == "1",
        low=params.get("low") == "1",
    )
    # Keyset pages (after / before a SKU id), never OFFSET: a deep page costs what the
    # first does. The count stops at COUNT_LIMIT.
    page = keyset_page(
        skus,
        key="sku_id",
        per_page=SKU_PAGE,
        after=params.get("after", "").strip() or None,
        before=params.get("before", "").strip() or None,
    )
    # What each SKU of the page can sell (a set: what its components allow), two queries.
    stock = availability(sku.sku_id for sku in page)
    for sku in page:
        sku.available = stock[sku.sku_id]
    query = params.copy()
    for cursor in ("after", "before", "page"):
        query.pop(cursor, None)
    matched = count_up_to(skus)
    context = _context(request, _("SKUs"))
    context.update(
        page=page,
        first_page=not (params.get("after") or params.get("before")),
        matched=min(matched, COUNT_LIMIT),
        matched_more=matched > COUNT_LIMIT,
        params=params,
        query=query.urlencode(),
        stores=Store.objects.order_by("store_id"),
        environments=Sku.Environment.choices,
        statuses=Sku.Status.choices,
    )
    return render(request, "skus/list.html", context)


@staff_member_required
@permission_required("skus.view_sku", raise_exception=True)
def sku_detail(request: HttpRequest, sku_id: str) -> HttpResponse:
    sku = get_object_or_404(Sku.objects.select_related("snapshot"), pk=sku_id)
    can_adjust = request.user.has_perm("events.adjust_stock")
    form = AdjustForm(request.POST or None)
    if request.method == "POST":
        if not can_adjust:
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                stock_adjust(
                    sku_id=sku.sku_id,
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor.from_request(request),
                )
            except InventoryError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Stock adjusted."))
                return redirect("skus:detail", sku_id=sku.sku_id)
    explanation = sku_explain(sku)
    timeline = Paginator(sku_events(sku_id=sku.sku_id), 50).get_page(request.GET.get("page"))
    recent = list(sku_events(sku_id=sku.sku_id)[:CHART_POINTS])[::-1]
    context = _context(request, f"{sku.original_sku or sku.sku_id} · {sku.sku_name}")
    context.update(
        sku=sku,
        timeline=timeline,
        chart=stock_chart(recent),
        chart_events=len(recent),
        explain=explanation,
        stores=explanation.stores,
        form=form,
        can_adjust=can_adjust and not explanation.components,
        panels=sku_panels(sku),
    )
    return render(request, "skus/detail.html", context)
