"""Reports of the ledger: audit log, oversells; and the test reset. (Reconciliation and
failed syncs are the sync engine's: ``sync.views``.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.actors import Actor
from events.models import AuditAction, AuditLog
from events.selectors import OVERSOLD_OPEN, OVERSOLD_RESOLVED, oversold_events
from skus.services import env_test_reset
from stores.models import Store

# The audit log's detail keys that have a word of their own; others read as written.
DETAIL_LABELS = {
    "store_id": gettext_lazy("Store"),
    "sku_id": gettext_lazy("SKU"),
    "skus": gettext_lazy("SKUs"),
    "changes": gettext_lazy("Changes"),
    "count": gettext_lazy("Count"),
    "orders": gettext_lazy("Orders"),
    "pushes": gettext_lazy("Pushes"),
    "retried": gettext_lazy("Retried"),
    "reason": gettext_lazy("Reason"),
    "quantity": gettext_lazy("Quantity"),
}
# Lists longer than this are cut in the page (the entry keeps them whole).
DETAIL_LIST_SHOWN = 20


def _context(request: HttpRequest, title: str) -> dict:
    return {
        **admin.site.each_context(request),
        "title": title,
        "time_zone": timezone.get_current_timezone_name(),
    }


def _detail_value(value: Any, *, change: bool = False) -> str:
    """One value of an audit entry as text: times in the site's zone, lists joined, a
    change ``[before, after]`` as "before → after"."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value or " " in value else None
        if isinstance(moment, dt.datetime) and timezone.is_aware(moment):
            return date_format(timezone.localtime(moment), "Y-m-d H:i:s")
        return value
    if isinstance(value, list):
        if change and len(value) == 2:
            return f"{_detail_value(value[0])} → {_detail_value(value[1])}"
        shown = ", ".join(_detail_value(item) for item in value[:DETAIL_LIST_SHOWN])
        if len(value) > DETAIL_LIST_SHOWN:
            shown += " " + _("… (%(count)d in all)") % {"count": len(value)}
        return shown
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_detail_value(item)}" for key, item in value.items())
    return str(value)


def audit_detail_lines(details: Any) -> list[tuple[str, str]]:
    """An audit entry's details as (key, value) lines a person reads: a nested mapping
    becomes one line per inner key ("Changes · sku_name: Old → New")."""
    if not isinstance(details, dict):
        return [("", _detail_value(details))] if details else []
    lines = []
    for key, value in details.items():
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        if isinstance(value, dict) and value:
            for inner, item in value.items():
                lines.append(
                    (
                        f"{label} · {inner}",
                        _detail_value(item, change=key in ("changes", "changed")),
                    )
                )
        else:
            lines.append((label, _detail_value(value)))
    return lines


@staff_member_required
@permission_required("events.view_auditlog", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    params = request.GET
    logs = AuditLog.objects.order_by("-created_at")
    if params.get("user"):
        logs = logs.filter(user=params["user"])
    if params.get("action"):
        logs = logs.filter(action=params["action"])
    try:
        start = parse_date(params.get("from", "") or "")
        end = parse_date(params.get("to", "") or "")
    except ValueError:  # well formed, but no such day (2026-02-30)
        return HttpResponseBadRequest(
            _("“From” and “to” must be real dates (YYYY-MM-DD)."),
            content_type="text/plain; charset=utf-8",
        )
    if start:
        logs = logs.filter(created_at__date__gte=start)
    if end:
        logs = logs.filter(created_at__date__lte=end)
    query = params.copy()
    query.pop("page", None)
    page = Paginator(logs, 50).get_page(params.get("page"))
    for log in page:
        log.detail_lines = audit_detail_lines(log.details)
    context = _context(request, _("Audit log"))
    context.update(
        page=page,
        params=params,
        query=query.urlencode(),
        actions=AuditAction.choices,
    )
    return render(request, "events/audit.html", context)


@staff_member_required
@permission_required("events.view_inventoryevent", raise_exception=True)
def oversell_report(request: HttpRequest) -> HttpResponse:
    store_id = request.GET.get("store") or ""
    state = request.GET.get("state") or ""
    events = oversold_events(store_id=store_id or None, state=state or None)
    query = request.GET.copy()
    query.pop("page", None)
    context = _context(request, _("Oversell report"))
    context.update(
        page=Paginator(events, 50).get_page(request.GET.get("page")),
        query=query.urlencode(),
        store_id=store_id,
        state=state,
        states=[(OVERSOLD_OPEN, _("open")), (OVERSOLD_RESOLVED, _("resolved"))],
        stores=Store.objects.order_by("store_id").values_list("store_id", flat=True),
    )
    return render(request, "events/oversell.html", context)


@staff_member_required
@permission_required("events.reset_test_data", raise_exception=True)
def test_reset(request: HttpRequest) -> HttpResponse:
    if not settings.INVENTORY_TEST_MODE:
        raise Http404(_("The test reset exists only in test mode."))
    if request.method == "POST" and request.POST.get("confirm") == "reset":
        events = env_test_reset(actor=Actor.from_request(request))
        messages.success(request, _("Test data reset: %(count)d events.") % {"count": len(events)})
        return redirect("reports:test_reset")
    context = _context(request, _("Reset test data"))
    context["stock"] = settings.INVENTORY_TEST_RESET_STOCK
    return render(request, "events/test_reset.html", context)
