"""Reading the seller's eBay catalogue into ``EbayListing`` (spec 002's inventory and offers
sync, on the real API's shapes): each a run of the engine with its live log.

- inventory: getInventoryItems, 200 a page, following ``next``; each page stored in chunks.
- offers: getOffers for each SKU read by the inventory run (eBay requires the SKU); the
  published offers also become the offer ids the store's pushes set.

A run counts what it fetched and stored, can be stopped between pages, between SKUs and
between chunks of storage, and keeps where it was (``details["resume"]``): the next run of
the same part goes on from there after a stop, a crash or a failure. A SKU whose offers eBay
fails to give (after the client's own retries) is tried again at the end, after a pause
that doubles each round; what still fails is named in the log and the counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record
from stores.models import Store
from sync.models import SyncRun
from sync.runs import RunLog, run_job

from .client import EbayClient
from .errors import EbayAuthError, EbayError
from .models import EbayBinding, EbayListing
from .types import InventoryItem, Offer

PARTS = ("inventory", "offers")
STORE_CHUNK = 50
PROGRESS_EVERY = 10  # SKUs between two lines of an offers read's live log
PART_NUMBER_ASPECTS = ("MPN", "Manufacturer Part Number", "Part Number")
MODEL_ASPECTS = ("Model",)
# Where staff stopped a catalogue read (the next run goes on from there).
STOPPED_WHILE_STORING = _("Stopped by staff while storing a page; the next run goes on from here.")
STOPPED_BETWEEN_PAGES = _("Stopped by staff between pages; the next run goes on from here.")
STOPPED_BETWEEN_SKUS = _("Stopped by staff between SKUs; the next run goes on from here.")
STOPPED_WHILE_RETRYING = _(
    "Stopped by staff while reading failed SKUs again; the next run goes on from here."
)
RESUMABLE = (SyncRun.Status.CANCELLED, SyncRun.Status.INTERRUPTED, SyncRun.Status.FAILED)


def catalog_start(*, store_id: str, part: str, actor: Actor) -> SyncRun:
    """Staff's "read eBay inventory/offers": the run row the page follows now, the run in a
    task after commit."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}")
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        run = SyncRun.objects.create(
            store=store,
            kind=SyncRun.Kind.CATALOG,
            operator=actor.username,
            details={"part": part},
        )
        audit_record(
            actor=actor,
            action=AuditAction.SKU_SYNC,
            details={"store_id": store_id, "ebay": part},
        )
        transaction.on_commit(lambda: async_task("ebay.tasks.catalog_run_task", run.pk))
    return run


def catalog_run(*, store_id: str, part: str, run: SyncRun | None = None) -> SyncRun:
    store = Store.objects.get(pk=store_id)
    work: Callable[[RunLog], SyncRun] = (
        (lambda log: _inventory(store, log))
        if part == "inventory"
        else (lambda log: _offers(store, log))
    )
    return run_job(
        store=store,
        kind=SyncRun.Kind.CATALOG,
        operator=run.operator if run else "system",
        run=run,
        work=lambda log: _with_part(log, part, work),
    )


def _with_part(log: RunLog, part: str, work: Callable[[RunLog], SyncRun]) -> SyncRun:
    log.run.details = {**log.run.details, "part": part}
    return work(log)


def _resume_point(log: RunLog, part: str) -> dict[str, Any] | None:
    """Where the last run of this part stopped, when it did not finish."""
    last = (
        SyncRun.objects.filter(store_id=log.run.store_id, kind=SyncRun.Kind.CATALOG)
        .exclude(pk=log.run.pk)
        .filter(details__part=part)
        .order_by("-started_at", "-pk")
        .first()
    )
    if last is None or last.status not in RESUMABLE:
        return None
    point = (last.details or {}).get("resume")
    if not point:
        return None
    log.say(_("Going on where run %(run)d stopped."), run=last.pk)
    return {**point, "from_run": last.pk}


def _keep_resume(log: RunLog, point: dict[str, Any] | None) -> None:
    log.run.details = {**log.run.details, "resume": point}
    log.save()


def _stopped(log: RunLog, message: Promise) -> SyncRun:
    log.say(message)
    return log.finish(SyncRun.Status.CANCELLED)


def _aspect(item: InventoryItem, names: Sequence[str]) -> str:
    for name in names:
        values = item.aspects.get(name)
        if values:
            return values[0][:100]
    return ""


def _store_items(store: Store, items: Sequence[InventoryItem]) -> None:
    now = timezone.now()
    existing = {
        row.ebay_sku: row
        for row in EbayListing.objects.filter(store=store, ebay_sku__in=[i.sku for i in items])
    }
    create, update = [], []
    for item in items:
        row = existing.get(item.sku) or EbayListing(store=store, ebay_sku=item.sku)
        row.title = item.title[:200]
        row.condition = item.condition[:40]
        row.part_number = _aspect(item, PART_NUMBER_ASPECTS)
        row.model = _aspect(item, MODEL_ASPECTS)
        row.quantity = item.quantity
        row.photo_count = min(item.image_count, 32767)
        row.raw_item = dict(item.raw)
        row.item_synced_at = now
        (update if row.pk else create).append(row)
    EbayListing.objects.bulk_create(create)
    EbayListing.objects.bulk_update(
        update,
        [
            "title",
            "condition",
            "part_number",
            "model",
            "quantity",
            "photo_count",
            "raw_item",
            "item_synced_at",
        ],
    )


def _inventory(store: Store, log: RunLog) -> SyncRun:
    client = EbayClient.for_store(store)
    resume = _resume_point(log, "inventory") or {}
    if resume.get("fetched"):
        log.add("fetched", resume.get("fetched", 0))
        log.add("stored", resume.get("stored", 0))
    told = False
    for url, page, following in client.inventory_pages(start_url=resume.get("next_url")):
        if not told and page.total is not None:
            log.run.details = {**log.run.details, "total": page.total}
            told = True
        log.add("fetched", len(page.entries))
        log.say(
            _("Page read: %(count)d items (%(total)d so far)."),
            count=len(page.entries),
            total=log.counts["fetched"],
        )
        for start in range(0, len(page.entries), STORE_CHUNK):
            if log.cancelled():
                log.counts["fetched"] -= len(page.entries) - start  # read again next time
                _keep_resume(log, _point(url, log))
                return _stopped(log, STOPPED_WHILE_STORING)
            chunk = page.entries[start : start + STORE_CHUNK]
            _store_items(store, chunk)
            log.add("stored", len(chunk))
        _keep_resume(log, _point(following, log) if following else None)
        if following and log.cancelled():
            return _stopped(log, STOPPED_BETWEEN_PAGES)
    _keep_resume(log, None)
    return log.finish(SyncRun.Status.SUCCEEDED)


def _point(url: str | None, log: RunLog) -> dict[str, Any]:
    return {
        "next_url": url,
        "fetched": log.counts.get("fetched", 0),
        "stored": log.counts.get("stored", 0),
    }


def _offer_json(offer: Offer) -> dict[str, Any]:
    return {
        "offer_id": offer.offer_id,
        "status": offer.status,
        "format": offer.format,
        "marketplace_id": offer.marketplace_id,
        "available_quantity": offer.available_quantity,
        "listing_id": offer.listing_id,
        "listing_status": offer.listing_status,
    }


def _store_offers(store: Store, sku: str, offers: Sequence[Offer]) -> None:
    published = [offer for offer in offers if offer.published]
    statuses = {offer.listing_status for offer in published if offer.listing_status}
    state = (
        EbayListing.State.ACTIVE
        if "ACTIVE" in statuses
        else EbayListing.State.ENDED
        if statuses and statuses <= {"ENDED", "OUT_OF_STOCK", "INACTIVE"}
        else EbayListing.State.UNKNOWN
    )
    listing = next((o.listing_id for o in published if o.listing_id), "")
    category = next((o.category_id for o in offers if o.category_id), "")
    with transaction.atomic():
        EbayListing.objects.filter(store=store, ebay_sku=sku).update(
            offers=[_offer_json(offer) for offer in offers],
            raw_offers=[dict(offer.raw) for offer in offers],
            listing_id=listing[:40],
            state=state,
            category_id=category[:20],
            offers_synced_at=timezone.now(),
        )
        # The pushes set the available quantity of exactly these offers.
        EbayBinding.objects.filter(store=store, ebay_sku=sku).update(
            offer_ids=[offer.offer_id for offer in published],
            marketplace_id=published[0].marketplace_id[:32] if published else "",
            merchant_location_key=(published[0].merchant_location_key[:36] if published else ""),
        )


def _offers(store: Store, log: RunLog) -> SyncRun:
    client = EbayClient.for_store(store)
    resume = _resume_point(log, "offers") or {}
    skus = EbayListing.objects.filter(store=store).order_by("ebay_sku")
    if resume.get("after"):
        skus = skus.filter(ebay_sku__gt=resume["after"])
        log.add("stored", resume.get("stored", 0))
    wanted = list(skus.values_list("ebay_sku", flat=True))
    log.run.details = {**log.run.details, "total": len(wanted) + log.counts.get("stored", 0)}
    log.say(_("Offers to read for %(count)d SKUs."), count=len(wanted))
    failed: list[str] = []
    for done, sku in enumerate(wanted, start=1):
        if log.cancelled():
            return _stopped(log, STOPPED_BETWEEN_SKUS)
        try:
            offers = client.offers(sku)
        except EbayAuthError:
            raise
        except EbayError as exc:
            failed.append(sku)
            log.warn(
                _("%(sku)s: offers not read (%(error)s); tried again at the end."),
                sku=sku,
                error=exc,
            )
        else:
            _store_offers(store, sku, offers)
            log.add("fetched", len(offers))
            log.add("stored")
        _keep_resume(log, {"after": sku, "stored": log.counts.get("stored", 0)})
        if done % PROGRESS_EVERY == 0:
            log.say(
                _("%(done)d of %(total)d SKUs read (last %(sku)s)."),
                done=done,
                total=len(wanted),
                sku=sku,
            )
    delay = settings.EBAY_SKU_RETRY_SECONDS
    for round_ in range(1, settings.EBAY_SKU_RETRY_ROUNDS + 1):
        if not failed:
            break
        log.say(
            _("Round %(round)d: %(count)d SKUs again after %(seconds)d s."),
            round=round_,
            count=len(failed),
            seconds=round(delay),
        )
        time.sleep(delay)
        delay *= 2
        again = []
        for sku in failed:
            if log.cancelled():
                return _stopped(log, STOPPED_WHILE_RETRYING)
            try:
                offers = client.offers(sku)
            except EbayAuthError:
                raise
            except EbayError as exc:
                again.append(sku)
                log.warn(_("%(sku)s: offers not read again (%(error)s)."), sku=sku, error=exc)
            else:
                _store_offers(store, sku, offers)
                log.add("fetched", len(offers))
                log.add("stored")
        failed = again
    _keep_resume(log, None)
    if failed:
        log.add("failed", len(failed))
        log.warn(_("Offers not read for: %(skus)s"), skus=", ".join(failed[:50]))
    return log.finish(SyncRun.Status.PARTIAL if failed else SyncRun.Status.SUCCEEDED)
