"""The "Connect eBay account" button and eBay's callback after the seller's consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from events.actors import Actor
from stores.models import Store

from .catalog import PARTS, catalog_start
from .errors import EbayError
from .services import connect_code, consent_pending, consent_start

CHANGE_STORE = "stores.change_store"


@require_POST
@staff_member_required
@permission_required(CHANGE_STORE, raise_exception=True)
def connect(request: HttpRequest, store_id: str) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id, platform_type=Store.Platform.EBAY)
    try:
        url = consent_start(store=store, session=request.session)
    except EbayError as exc:
        messages.error(request, _("Cannot start the eBay consent: %(error)s") % {"error": exc})
        return redirect("sync:store", store_id=store.store_id)
    return redirect(url)


@require_GET
@staff_member_required
@permission_required(CHANGE_STORE, raise_exception=True)
def callback(request: HttpRequest) -> HttpResponse:
    """eBay sends the seller back here (the RuName's accept and decline URLs)."""
    store_id = consent_pending(session=request.session, state=request.GET.get("state", ""))
    if store_id is None:
        messages.error(
            request,
            _(
                "This answer from eBay does not belong to a consent started here (or it "
                "took longer than 10 minutes): start again with “Connect eBay account”."
            ),
        )
        return redirect("sync:stores")
    store = get_object_or_404(Store, pk=store_id, platform_type=Store.Platform.EBAY)
    if request.GET.get("error") or not request.GET.get("code"):
        messages.warning(request, _("The eBay account was not connected: consent was declined."))
        return redirect("sync:store", store_id=store.store_id)
    try:
        connect_code(store=store, code=request.GET["code"], actor=Actor.from_request(request))
    except EbayError as exc:
        messages.error(request, _("eBay did not connect the account: %(error)s") % {"error": exc})
        return redirect("sync:store", store_id=store.store_id)
    messages.success(request, _("The eBay account is connected."))
    return redirect("sync:store", store_id=store.store_id)


@require_POST
@staff_member_required
@permission_required("sync.run_sync", raise_exception=True)
def catalog(request: HttpRequest, store_id: str, part: str) -> HttpResponse:
    """Start reading the seller's inventory or offers; the run page shows it live."""
    store = get_object_or_404(Store, pk=store_id, platform_type=Store.Platform.EBAY)
    if part not in PARTS:
        raise Http404
    run = catalog_start(store_id=store.store_id, part=part, actor=Actor.from_request(request))
    return redirect("sync:run", run_id=run.pk)
