"""Staff pages: the dashboard and a store's page with its sync actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record
from stores.models import Store

from .models import SyncRun
from .selectors import oversell_count, store_health
from .services import store_auth_test

RUN_SYNC = "rakuten.run_sync"


def _sync_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST by staff who may run syncs (polls, SKU syncs, auth tests, cancels)."""
    return require_POST(
        staff_member_required(permission_required(RUN_SYNC, raise_exception=True)(view))
    )


def _context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


@staff_member_required
@permission_required("stores.view_store", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = _context(request, _("Dashboard"))
    context.update(health=store_health(), oversold=oversell_count())
    return render(request, "rakuten/dashboard.html", context)


@staff_member_required
@permission_required("stores.view_store", raise_exception=True)
def store_detail(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    context = _context(request, store.store_name)
    context.update(
        store=store,
        registrations=store.registrations.select_related("sku").order_by("sku_id")[:500],
        runs=SyncRun.objects.filter(store=store).order_by("-started_at")[:10],
        running_sync=SyncRun.objects.filter(
            store=store, kind=SyncRun.Kind.SKU_SYNC, status=SyncRun.Status.RUNNING
        ).first(),
        can_run=request.user.has_perm(RUN_SYNC),
    )
    return render(request, "rakuten/store.html", context)


@_sync_action
def store_auth(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    ok, message = store_auth_test(store_id=store.store_id)
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    return redirect("rakuten:store", store_id=store.store_id)


@_sync_action
def store_poll(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    actor = Actor.from_request(request)
    audit_record(actor=actor, action=AuditAction.MANUAL_POLL, details={"store_id": store.store_id})
    async_task(
        "rakuten.tasks.poll_store", store.store_id, task_name=f"manual poll {store.store_id}"
    )
    messages.info(request, _("Order poll started for %(store)s.") % {"store": store.store_id})
    return redirect("rakuten:store", store_id=store.store_id)


@_sync_action
def store_sku_sync(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    actor = Actor.from_request(request)
    run = SyncRun.objects.create(store=store, kind=SyncRun.Kind.SKU_SYNC, operator=actor.username)
    audit_record(actor=actor, action=AuditAction.SKU_SYNC, details={"store_id": store.store_id})
    async_task("rakuten.tasks.sku_sync_run_task", run.pk, actor.username)
    messages.info(request, _("SKU sync started for %(store)s.") % {"store": store.store_id})
    return redirect("rakuten:store", store_id=store.store_id)


@_sync_action
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(cancel_requested=True)
    messages.info(request, _("The run will stop after its current page."))
    return redirect("rakuten:store", store_id=run.store_id)


@staff_member_required
@permission_required("rakuten.view_syncrun", raise_exception=True)
def run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    total = run.details.get("total")
    done = run.counts.get("items", 0)
    return JsonResponse(
        {
            "status": run.status,
            "counts": run.counts,
            "total": total,
            "percent": round(100 * done / total) if total else None,
            "log": run.log.splitlines()[-5:],
            "finished": run.finished_at is not None,
        }
    )
