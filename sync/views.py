"""Staff pages: the dashboard and a store's page with its sync actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from events.actors import Actor
from events.selectors import ledger_checks_recent
from events.services import ledger_check_request
from skus.selectors import low_stock
from stores.models import Store

from .catalog import sku_sync_start
from .error_messages import explain
from .models import QuarantinedOrder, SyncRun
from .orders import poll_start
from .push import failed_syncs_retry, push_all_start
from .registry import adapter_class, binder_for, platforms, store_account, store_actions
from .run_text import counts_sentence
from .selectors import (
    failed_pushes,
    latest_runs,
    oversell_count,
    store_health,
    store_rows,
    store_runs_recent,
)
from .services import quarantine_dismiss, quarantine_retry, reconcile_start, store_auth_test

RUN_SYNC = "sync.run_sync"
REGISTRATIONS_PAGE = 100
# The reconciliation page: the newest stored ledger check, and a few before it.
LEDGER_CHECKS_SHOWN = 6
MSG_LEDGER_CHECK_QUEUED = gettext_lazy(
    "A ledger check has been queued: it runs in the background (about a second per "
    "million events). Reload this page to see its result."
)
MSG_RECONCILE_STARTED = gettext_lazy(
    "Reconcile of %(store)s started: it reads back the store's stock in the background. "
    "Reload this page to see what it found."
)


def _sync_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST by staff who may run syncs (polls, SKU syncs, auth tests, cancels)."""
    return require_POST(
        staff_member_required(permission_required(RUN_SYNC, raise_exception=True)(view))
    )


def _context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


LOW_STOCK_SHOWN = 20


@staff_member_required
@permission_required("stores.view_store", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = _context(request, _("Dashboard"))
    context.update(
        health=store_health(),
        oversold=oversell_count(),
        can_run=request.user.has_perm(RUN_SYNC),
    )
    # SKUs at or below their low-stock threshold (sets by their components), scarcest first.
    low = list(low_stock()[: LOW_STOCK_SHOWN + 1])
    context.update(low_stock=low[:LOW_STOCK_SHOWN], low_stock_more=len(low) > LOW_STOCK_SHOWN)
    return render(request, "sync/dashboard.html", context)


@staff_member_required
@permission_required("stores.view_store", raise_exception=True)
def store_list(request: HttpRequest) -> HttpResponse:
    context = _context(request, _("Stores"))
    context["stores"] = store_rows()
    return render(request, "sync/stores.html", context)


@staff_member_required
@permission_required("stores.view_store", raise_exception=True)
def store_detail(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    registrations = Paginator(
        store.registrations.select_related("sku").order_by("sku_id"), REGISTRATIONS_PAGE
    ).get_page(request.GET.get("page"))
    # The listing each registration is bound to, in the platform's own keys.
    binder = binder_for(store.platform_type)
    keys = binder.keys_of([registration.pk for registration in registrations])
    context = _context(request, store.store_name)
    context.update(
        store=store,
        registrations=registrations,
        key_fields=binder.fields,
        registration_rows=[
            (registration, [keys.get(registration.pk, {}).get(f.name, "") for f in binder.fields])
            for registration in registrations
        ],
        runs=store_runs_recent(store),
        running=SyncRun.objects.filter(store=store, status=SyncRun.Status.RUNNING)
        .exclude(kind=SyncRun.Kind.IMPORT)
        .order_by("started_at"),
        can_run=request.user.has_perm(RUN_SYNC),
        account=store_account(store),
        credentials=_credentials_named(store),
        actions=store_actions(store),
        can_change_store=request.user.has_perm("stores.change_store"),
        rules=store.allocation_rules.select_related("sku").order_by(
            "sku_id", "kind", "starts_at", "id"
        ),
        can_change_rules=request.user.has_perm("stores.add_allocationrule"),
    )
    return render(request, "sync/store.html", context)


def _credentials_named(store: Store) -> list[tuple[str, str]]:
    """The store's masked credentials, each under its platform's word for it ("RMS licence
    key", not "license_key")."""
    labels = {
        field.name: str(field.label)
        for field in adapter_class(store.platform_type).credential_fields
    }
    return [(labels.get(name, name), masked) for name, masked in store.credentials_masked.items()]


@_sync_action
def store_auth(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    ok, message = store_auth_test(store_id=store.store_id)
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    if request.POST.get("back") == "dashboard":  # the dashboard's "test now"
        return redirect("sync:dashboard")
    return redirect("sync:store", store_id=store.store_id)


@_sync_action
def store_poll(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    poll_start(store_id=store.store_id, actor=Actor.from_request(request))
    messages.info(request, _("Order poll started for %(store)s.") % {"store": store.store_id})
    return redirect("sync:store", store_id=store.store_id)


@_sync_action
def store_sku_sync(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    sku_sync_start(store_id=store.store_id, actor=Actor.from_request(request))
    messages.info(request, _("SKU sync started for %(store)s.") % {"store": store.store_id})
    return redirect("sync:store", store_id=store.store_id)


@_sync_action
def store_push_all(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    run = push_all_start(store_id=store.store_id, actor=Actor.from_request(request))
    messages.info(
        request,
        _("Push of %(count)d SKUs to %(store)s started.")
        % {"count": run.details["requested"], "store": store.store_id},
    )
    return redirect("sync:store", store_id=store.store_id)


@_sync_action
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(cancel_requested=True)
    messages.info(request, _("The run will stop after its current page."))
    if request.POST.get("back") == "run":
        return redirect("sync:run", run_id=run.pk)
    return redirect("sync:store", store_id=run.store_id)


@staff_member_required
def run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    # Whoever may import follows their import, even without the right to read every run.
    if not request.user.has_perm("sync.view_syncrun") and not (
        run.kind == SyncRun.Kind.IMPORT and request.user.has_perm("imports.add_uploadedfile")
    ):
        raise PermissionDenied
    return JsonResponse(
        {
            "status": run.status,
            "status_text": str(run.get_status_display()),
            "counts": run.counts,
            # The counts in words, in the page's language.
            "counts_text": counts_sentence(run.kind, run.counts),
            "total": run.details.get("total"),
            "percent": run.percent,
            "phase": str(run.details.get("phase", "")),
            "error": run.error,
            # The error read for a merchant (the raw text stays in "error").
            "error_text": explain(run.error, store_id=run.store_id).message if run.error else "",
            # The last lines of the live log, in the reader's language (an old run's text).
            "log": [event.text for event in run.events.order_by("-seq")[:5]][::-1]
            or run.log.splitlines()[-5:],
            "finished": run.finished_at is not None,
        }
    )


# --- reports of the engine: reconciliation and failed syncs ------------------------


@staff_member_required
@permission_required("events.view_inventorysnapshot", raise_exception=True)
def reconcile_report(request: HttpRequest) -> HttpResponse:
    """The newest stored ledger check (never a sum of the whole ledger here: that runs as
    a task, nightly or on "check now") and the newest reconcile run of each store."""
    stores = list(Store.objects.order_by("store_id"))
    latest = latest_runs(SyncRun.Kind.RECONCILE, [store.store_id for store in stores])
    checks = ledger_checks_recent(limit=LEDGER_CHECKS_SHOWN)
    context = _context(request, _("Reconciliation"))
    context.update(
        ledger_check=checks[0] if checks else None,
        earlier_checks=checks[1:],
        # Every store, with its newest reconcile when it has one (and a button either way).
        store_runs=[(store, latest.get(store.store_id)) for store in stores],
        can_check=request.user.has_perm(RUN_SYNC),
    )
    return render(request, "sync/reconcile.html", context)


@_sync_action
def reconcile_now(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    reconcile_start(store_id=store.store_id, actor=Actor.from_request(request))
    messages.info(request, MSG_RECONCILE_STARTED % {"store": store.store_id})
    return redirect(f"{reverse('reports:reconcile')}#reconcile-{store.store_id}")


@_sync_action
def ledger_check_now(request: HttpRequest) -> HttpResponse:
    ledger_check_request(actor=Actor.from_request(request))
    messages.info(request, MSG_LEDGER_CHECK_QUEUED)
    return redirect("reports:reconcile")


@staff_member_required
@permission_required("events.view_pendingpush", raise_exception=True)
def failed_syncs(request: HttpRequest) -> HttpResponse:
    store_id = request.GET.get("store") or ""
    context = _context(request, _("Failed syncs"))
    context.update(
        pushes=failed_pushes(store_id=store_id or None),
        confirmations=_failed_followups(store_id or None),
        can_retry=request.user.has_perm("sync.run_sync"),
        store_id=store_id,
        stores=Store.objects.order_by("store_id").values_list("store_id", flat=True),
    )
    return render(request, "sync/failed.html", context)


def _failed_followups(store_id: str | None) -> list:
    """Every platform's failed follow-ups (RMS: order confirmations), each with its
    platform's name and its error read for a merchant."""
    names = dict(Store.Platform.choices)
    rows = []
    for platform, adapter in platforms().items():
        found = adapter.followups_failed([store_id] if store_id else None)
        for row in found.order_by("store_id", "pk")[:500]:
            row.platform_label = names.get(platform, platform)
            row.explanation = explain(row.error, store_id=row.store_id)
            rows.append(row)
    return rows


@require_POST
@staff_member_required
@permission_required("sync.run_sync", raise_exception=True)
def failed_retry_view(request: HttpRequest) -> HttpResponse:
    def ids(name: str) -> list[int] | None:
        values = request.POST.getlist(name)
        return [int(v) for v in values if v.isdigit()] if values else None

    count = failed_syncs_retry(
        actor=Actor.from_request(request), push_ids=ids("push"), order_ids=ids("order")
    )
    messages.success(request, _("%(count)d will be retried now.") % {"count": count})
    return redirect("reports:failed")


@staff_member_required
@permission_required("sync.view_order", raise_exception=True)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    """Orders set aside because the engine could not apply them, with why."""
    rows = QuarantinedOrder.objects.select_related("store")
    status = request.GET.get("status") or QuarantinedOrder.Status.OPEN
    if status in QuarantinedOrder.Status.values:
        rows = rows.filter(status=status)
    if store := request.GET.get("store"):
        rows = rows.filter(store_id=store)
    context = _context(request, _("Quarantined orders"))
    context.update(
        page=Paginator(rows.order_by("-last_seen_at", "pk"), 50).get_page(request.GET.get("page")),
        status=status,
        statuses=QuarantinedOrder.Status.choices,
        can_act=request.user.has_perm(RUN_SYNC),
    )
    return render(request, "sync/quarantine.html", context)


@_sync_action
def quarantine_act(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    if request.POST.get("action") == "retry":
        store = get_object_or_404(Store, pk=request.POST.get("store", ""))
        quarantine_retry(store_id=store.store_id, actor=actor)
        messages.info(request, _("Order poll started for %(store)s.") % {"store": store.store_id})
    else:
        ids = [int(v) for v in request.POST.getlist("order") if v.isdigit()]
        count = quarantine_dismiss(ids=ids, actor=actor)
        messages.success(request, _("%(count)d orders dismissed.") % {"count": count})
    return redirect("reports:quarantine")
