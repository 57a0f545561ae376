"""Reports of the ledger: audit log, oversells; and the test reset. (Reconciliation and
failed syncs are the sync engine's: ``sync.views``.)"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from events.actors import Actor
from events.models import AuditAction, AuditLog
from events.selectors import oversold_events
from skus.services import env_test_reset


def _context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


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
    context = _context(request, _("Audit log"))
    context.update(
        page=Paginator(logs, 50).get_page(params.get("page")),
        params=params,
        query=query.urlencode(),
        actions=AuditAction.choices,
    )
    return render(request, "events/audit.html", context)


@staff_member_required
@permission_required("events.view_inventoryevent", raise_exception=True)
def oversell_report(request: HttpRequest) -> HttpResponse:
    context = _context(request, _("Oversell report"))
    context["page"] = Paginator(oversold_events(), 50).get_page(request.GET.get("page"))
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
