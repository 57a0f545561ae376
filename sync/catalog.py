"""SKU sync from a store (its catalogue into our SKUs and registrations) and reconcile."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record
from skus.models import Sku, normalize_sku_id
from skus.services import sku_create
from skus.sets import availability
from stores.models import Store, StoreSku

from .adapters import CatalogPage
from .models import SyncRun
from .push import push_request, store_told
from .registrations import Registration, registrations_check, store_sku_register_many
from .registry import adapter_class, adapter_for
from .runs import RunLog, run_job

MSG_BAD_ID = _("Skipped: %(id)s is not a valid SKU id.")
MSG_NO_CATALOG = _("This platform's catalogue cannot be read.")
# The SKUs whose stock differs are kept on the run (its page lists them), up to this many.
DIFFER_KEPT = 500


def sku_sync_start(*, store_id: str, actor: Actor) -> SyncRun:
    """Staff's SKU sync: the run row the page follows now, the sync in a task after commit."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        run = SyncRun.objects.create(
            store=store, kind=SyncRun.Kind.SKU_SYNC, operator=actor.username
        )
        audit_record(actor=actor, action=AuditAction.SKU_SYNC, details={"store_id": store_id})
        transaction.on_commit(
            lambda: async_task("sync.tasks.sku_sync_run_task", run.pk, actor.username)
        )
    return run


def sku_sync_run(*, store_id: str, actor: Actor, run: SyncRun | None = None) -> SyncRun:
    """Walk the store's whole catalogue: create unknown SKUs with the store's stock as
    their initial stock, register every listing, and flag SKUs whose stock in this
    store differs from ours (never overwritten). Cancellable between pages."""
    store = Store.objects.get(pk=store_id)
    if not actor.is_system:
        audit_record(actor=actor, action=AuditAction.SKU_SYNC, details={"store_id": store_id})
    return run_job(
        store=store,
        kind=SyncRun.Kind.SKU_SYNC,
        operator=actor.username,
        run=run,
        work=lambda log: _sku_sync(store, actor, log),
    )


def _sku_sync(store: Store, actor: Actor, log: RunLog) -> SyncRun:
    adapter = adapter_for(store)
    if not hasattr(adapter, "listings"):
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_NO_CATALOG))
    binder = adapter.binder
    registrations = dict(StoreSku.objects.filter(store=store).values_list("id", "sku_id"))
    known = {
        binder.identity(keys): registrations[registration_id]
        for registration_id, keys in binder.keys_of(list(registrations)).items()
    }

    def total(found: int) -> None:
        log.run.details = {**log.run.details, "total": found}
        log.save()

    for page in adapter.listings(on_total=total):
        _sync_page(store, page, known, actor, log)
        log.save()
        if log.cancelled():
            log.say(_("Cancelled by staff."))
            return log.finish(SyncRun.Status.CANCELLED)
    Store.objects.filter(pk=store.store_id).update(last_sku_sync_at=timezone.now())
    status = SyncRun.Status.PARTIAL if log.counts.get("skipped", 0) else SyncRun.Status.SUCCEEDED
    return log.finish(status)


def _sync_page(
    store: Store, page: CatalogPage, known: dict[tuple, str], actor: Actor, log: RunLog
) -> None:
    binder = adapter_class(store.platform_type).binder
    log.add("items", page.entries)
    log.add("variants", len(page.listings))
    entries: list[Registration] = []
    for listing in page.listings:
        code = listing.sku_code
        identity = binder.identity(listing.keys)
        try:
            # A listing already registered keeps its SKU, whatever its code says now.
            sku_id = known.get(identity) or normalize_sku_id(code)
        except ValidationError:  # a platform id we cannot use: reported, not fatal
            log.add("skipped")
            log.say(MSG_BAD_ID, id=code)
            continue
        quantity = listing.quantity
        if not Sku.objects.filter(pk=sku_id).exists():
            sku_create(
                sku_id=code,
                sku_name=(listing.title or code)[:200],
                initial_stock=quantity or 0,
                actor=actor,
                metadata={"created_by": f"sku sync from {store.store_id}"},
            )
            log.add("created")
            log.say(
                _("%(sku)s created with stock %(stock)d from %(store)s."),
                sku=code,
                stock=quantity or 0,
                store=store.store_id,
            )
        elif quantity is not None:
            ours = availability([sku_id])[sku_id]  # a set: what its components allow
            if quantity != ours:
                log.add("differ")
                _differ_keep(log, sku_id=sku_id, code=code, shown=quantity, ours=ours)
                log.say(
                    _(
                        "%(sku)s: %(store)s shows %(shown)d, Inventory Sync has %(ours)d "
                        "(not overwritten)."
                    ),
                    sku=code,
                    store=store.store_id,
                    shown=quantity,
                    ours=ours,
                )
        known[identity] = sku_id
        entries.append(Registration(sku_id=sku_id, keys=listing.keys))
    refused = registrations_check(store, entries)
    for index, message in sorted(refused.items()):
        log.add("skipped")
        log.say(_("%(sku)s: %(error)s"), sku=entries[index].sku_id, error=message)
    entries = [entry for index, entry in enumerate(entries) if index not in refused]
    result = store_sku_register_many(store_id=store.store_id, entries=entries, actor=actor)
    log.add("registered", result.created)
    log.add("remapped", result.rebound)


def _differ_keep(log: RunLog, *, sku_id: str, code: str, shown: int, ours: int) -> None:
    """Name a SKU whose stock in the store differs from ours on the run (its page lists
    them; the log line says the same for whoever reads the log)."""
    differ = log.run.details.get("differ", [])
    if len(differ) < DIFFER_KEPT:
        differ.append({"sku_id": sku_id, "code": code, "store": shown, "ours": ours})
        log.run.details = {**log.run.details, "differ": differ}


def reconcile_run(*, store_id: str, operator: str = "system") -> SyncRun:
    """Read back the store's stock and list every SKU it shows differently from what we
    last pushed (or, never pushed, from what we would push now)."""
    store = Store.objects.get(pk=store_id)
    return run_job(
        store=store,
        kind=SyncRun.Kind.RECONCILE,
        operator=operator,
        work=lambda log: _reconcile(store, log),
    )


def _reconcile(store: Store, log: RunLog) -> SyncRun:
    target = adapter_class(store.platform_type)
    registrations = {
        registration.id: registration
        for registration in StoreSku.objects.filter(store=store).select_related("store")
    }
    bound = list(target.binder.keys_of(list(registrations)))
    shown = adapter_for(store).stock_of(bound)
    told = store_told(store, [registrations[registration_id] for registration_id in bound])
    drift = []
    for registration_id in bound:
        registration = registrations[registration_id]
        expected = told[registration_id]
        platform = shown.get(registration_id)
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
    log.add("checked", len(bound))
    log.add("drift", len(drift))
    repaired = _drift_repair(store, drift) if store.reconcile_repairs else []
    if repaired:
        log.add("repaired", len(repaired))
        log.say(_("%(count)d pushed again to repair the drift."), count=len(repaired))
    log.run.details = {"drift": drift, "at": dt.datetime.now(dt.UTC).isoformat()}
    return log.finish(SyncRun.Status.SUCCEEDED)


def _drift_repair(store: Store, drift: list[dict]) -> list[str]:
    """Make the drifting SKUs due again (the next push sends our quantity), audited."""
    sku_ids = sorted({row["sku_id"] for row in drift})
    with transaction.atomic():
        push_request(store_id=store.store_id, sku_ids=sku_ids)
        audit_record(
            actor=Actor.system("reconcile"),
            action=AuditAction.DRIFT_REPAIR,
            details={"store_id": store.store_id, "skus": sku_ids[:500], "count": len(sku_ids)},
        )
    return sku_ids
