"""SKU sync from a store (its catalogue into our SKUs and registrations) and reconcile."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction, InventorySnapshot
from events.services import audit_record
from skus.models import Sku, normalize_sku_id
from skus.services import sku_create
from stores.models import Store, StoreSku
from sync.leases import job_lease
from sync.models import SyncRun

from .client import RmsClient
from .errors import RmsError
from .push import push_quantity
from .services import MSG_BUSY, RunLog, run_skipped, run_start
from .types import Item, VariantKey

MSG_BAD_ID = _("Skipped: %(id)s is not a valid SKU id.")


def _sku_code(manage_number: str, variant_id: str, merchant_sku_id: str | None) -> str:
    """The merchant's own code when set (システム連携用SKU番号), else the variant id."""
    return merchant_sku_id or variant_id or manage_number


def sku_sync_start(*, store_id: str, actor: Actor) -> SyncRun:
    """Staff's SKU sync: the run row the page follows now, the sync in a task after commit."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        run = SyncRun.objects.create(
            store=store, kind=SyncRun.Kind.SKU_SYNC, operator=actor.username
        )
        audit_record(actor=actor, action=AuditAction.SKU_SYNC, details={"store_id": store_id})
        transaction.on_commit(
            lambda: async_task("rakuten.tasks.sku_sync_run_task", run.pk, actor.username)
        )
    return run


def sku_sync_run(
    *,
    store_id: str,
    actor: Actor,
    run: SyncRun | None = None,
    client: RmsClient | None = None,
) -> SyncRun:
    """Walk the store's whole catalogue: create unknown SKUs with the store's stock as
    their initial stock, register every variant, and flag SKUs whose stock in this
    store differs from ours (never overwritten). Cancellable between pages."""
    store = Store.objects.get(pk=store_id)
    if not actor.is_system:
        audit_record(actor=actor, action=AuditAction.SKU_SYNC, details={"store_id": store_id})
    with job_lease(f"sku_sync:{store_id}") as token:
        if token is None:
            if run is not None:
                return RunLog(run).finish(SyncRun.Status.SKIPPED, str(MSG_BUSY))
            return run_skipped(store, SyncRun.Kind.SKU_SYNC, actor.username)
        log = RunLog(run) if run else run_start(store, SyncRun.Kind.SKU_SYNC, actor.username)
        try:
            client = client or RmsClient.for_store(store)
            page: list[Item] = []

            def total(found: int) -> None:
                log.run.details = {**log.run.details, "total": found}
                log.save()

            for item in client.items_search(on_total=total):
                page.append(item)
                if len(page) == 100:
                    _sync_page(store, page, client, actor, log)
                    page = []
                    log.save()
                    if log.cancelled():
                        log.say("cancelled by staff")
                        return log.finish(SyncRun.Status.CANCELLED)
            if page:
                _sync_page(store, page, client, actor, log)
        except RmsError as exc:
            log.say("stopped: %s", exc)
            return log.finish(SyncRun.Status.FAILED, str(exc))
        except Exception as exc:
            log.finish(SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        Store.objects.filter(pk=store_id).update(last_sku_sync_at=timezone.now())
        log.say(
            "%d variants: %d SKUs created, %d registered, %d differ",
            log.counts.get("variants", 0),
            log.counts.get("created", 0),
            log.counts.get("registered", 0),
            log.counts.get("differ", 0),
        )
        status = (
            SyncRun.Status.PARTIAL if log.counts.get("skipped", 0) else SyncRun.Status.SUCCEEDED
        )
        return log.finish(status)


def _sync_page(
    store: Store, items: list[Item], client: RmsClient, actor: Actor, log: RunLog
) -> None:
    variants = [(item, variant) for item in items if not item.deleted for variant in item.variants]
    log.add("items", len(items))
    log.add("variants", len(variants))
    stock = {
        (record.manage_number.lower(), record.variant_id): record.quantity
        for record in client.inventory_bulk_get(
            [VariantKey(item.manage_number, variant.variant_id) for item, variant in variants]
        )
    }
    mapped = {
        (manage_number, variant_id): sku_id
        for sku_id, manage_number, variant_id in StoreSku.objects.filter(
            store=store, manage_number__in={item.manage_number.lower() for item, _ in variants}
        ).values_list("sku_id", "manage_number", "variant_id")
    }
    for item, variant in variants:
        code = _sku_code(item.manage_number, variant.variant_id, variant.merchant_sku_id)
        known = mapped.get((item.manage_number.lower(), variant.variant_id))
        try:
            # A variant already registered keeps its SKU, whatever its code says now.
            sku_id = known or normalize_sku_id(code)
        except ValidationError:  # a platform id we cannot use: reported, not fatal
            log.add("skipped")
            log.say(str(MSG_BAD_ID % {"id": code}))
            continue
        quantity = stock.get((item.manage_number.lower(), variant.variant_id))
        with transaction.atomic(durable=True):
            if not Sku.objects.filter(pk=sku_id).exists():
                sku_create(
                    sku_id=code,
                    sku_name=(item.title or code)[:200],
                    initial_stock=quantity or 0,
                    actor=actor,
                    metadata={"created_by": f"sku sync from {store.store_id}"},
                )
                log.add("created")
                log.say("%s created with stock %s from %s", code, quantity or 0, store.store_id)
            elif quantity is not None:
                ours = (
                    InventorySnapshot.objects.filter(sku_id=sku_id)
                    .values_list("internal_available", flat=True)
                    .first()
                )
                if ours is not None and quantity != ours:
                    log.add("differ")
                    log.say(
                        "%s: %s shows %d, Inventory Sync has %d (not overwritten)",
                        code,
                        store.store_id,
                        quantity,
                        ours,
                    )
            registration, created = StoreSku.objects.get_or_create(
                store=store,
                sku_id=sku_id,
                defaults={
                    "manage_number": item.manage_number.lower(),
                    "variant_id": variant.variant_id,
                    "merchant_sku_id": variant.merchant_sku_id or "",
                },
            )
            if created:
                log.add("registered")
            elif (registration.manage_number, registration.variant_id) != (
                item.manage_number.lower(),
                variant.variant_id,
            ):
                registration.manage_number = item.manage_number.lower()
                registration.variant_id = variant.variant_id
                registration.merchant_sku_id = variant.merchant_sku_id or ""
                registration.save(update_fields=["manage_number", "variant_id", "merchant_sku_id"])
                log.add("remapped")


def reconcile_run(
    *, store_id: str, client: RmsClient | None = None, operator: str = "system"
) -> SyncRun:
    """Read back the store's stock and list every SKU it shows differently from what we
    last pushed (or, never pushed, from what we would push now)."""
    store = Store.objects.get(pk=store_id)
    log = run_start(store, SyncRun.Kind.RECONCILE, operator)
    registrations = list(
        StoreSku.objects.filter(store=store)
        .exclude(manage_number="")
        .exclude(variant_id="")
        .select_related("sku__snapshot")
    )
    try:
        client = client or RmsClient.for_store(store)
        records = client.inventory_bulk_get(
            [VariantKey(r.manage_number, r.variant_id) for r in registrations]
        )
    except RmsError as exc:
        return log.finish(SyncRun.Status.FAILED, str(exc))
    shown = {(r.manage_number.lower(), r.variant_id): r.quantity for r in records}
    drift = []
    for registration in registrations:
        snapshot = getattr(registration.sku, "snapshot", None)
        expected = push_quantity(
            snapshot.internal_available if snapshot else 0, registration.effective_safety_stock
        )
        platform = shown.get((registration.manage_number.lower(), registration.variant_id))
        reference = (
            registration.last_pushed_quantity
            if registration.last_pushed_quantity is not None
            else expected
        )
        if platform != reference:
            drift.append(
                {
                    "sku_id": registration.sku_id,
                    "platform": platform,
                    "last_pushed": registration.last_pushed_quantity,
                    "expected": expected,
                }
            )
    log.add("checked", len(registrations))
    log.add("drift", len(drift))
    log.say("%d SKUs checked, %d differ", len(registrations), len(drift))
    log.run.details = {"drift": drift, "at": dt.datetime.now(dt.UTC).isoformat()}
    return log.finish(SyncRun.Status.SUCCEEDED)
