"""Telling each store its stock: the outbox consumer, retries and the failed list.

The pusher reads the snapshot at push time and sends ABSOLUTE quantities, so a
push can be repeated any number of times and many events coalesce into one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.ledger import outbox_mark, outbox_mark_store
from events.models import AuditAction, PendingPush
from events.services import audit_record, failed_retry
from skus.sets import availability, available_expression
from stores.allocation import StoreRules, allocate, store_quantity
from stores.models import Store, StoreSku

from .adapters import StockTarget, StockUpdate
from .backoff import retry_delay
from .errors import PlatformAuthError, PlatformError
from .models import SyncRun
from .registry import adapter_class, adapter_for, platforms
from .runs import RunLog, run_job

Row = dict  # a claimed outbox row: id, sku_id, attempts

MSG_STOPPED = _("The push was stopped by staff before this row; it is sent by the next push.")


def push_quantity(available: int, safety: int, maximum: int) -> int:
    """What a store with no allocation rule but a safety stock is told: available less
    it, clamped to what the platform accepts (0 … ``maximum``). The push itself applies
    every rule (``stores.allocation.allocate``)."""
    return store_quantity(available, safety, maximum)


def store_told(
    store: Store, registrations: Iterable[StoreSku], now: dt.datetime | None = None
) -> dict[int, int]:
    """What the store should be told of each registration now (by registration id): the
    push's own computation (sets from their components, every allocation rule, the
    platform's limit), for the reconcile and the pages that compare with the store."""
    registrations = list(registrations)
    rules = StoreRules(store, now or timezone.now())
    stock = availability(r.sku_id for r in registrations)
    maximum = adapter_class(store.platform_type).quantity_max
    return {
        r.id: allocate(stock[r.sku_id], rules.for_sku(r.sku_id, r.safety_stock), maximum).quantity
        for r in registrations
    }


def _in_chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def push_run(
    *,
    store_id: str,
    now: dt.datetime | None = None,
    operator: str = "system",
    run: SyncRun | None = None,
) -> SyncRun:
    """Push every due outbox row of one store through its adapter; one push per store at
    a time. ``run`` is the row a person's page already follows (``push_all_start``).
    A pusher that dies leaves its rows in progress: the next push of the store takes them."""
    store = Store.objects.get(pk=store_id)
    return run_job(
        store=store,
        kind=SyncRun.Kind.PUSH,
        operator=operator,
        run=run,
        work=lambda log: _push(store, log, now or timezone.now()),
    )


def _claim(store: Store, now: dt.datetime, log: RunLog) -> list[Row]:
    """Take every due row (one UPDATE) and read them back with what the push needs: the
    SKU's available stock and the store's registration (one SELECT), instead of a few
    statements per 500 rows."""
    # Holding the store's lease, any row still in progress was left by a pusher that died.
    due = PendingPush.objects.filter(store=store).filter(
        Q(status=PendingPush.Status.PENDING, next_attempt_at__lte=now)
        | Q(status=PendingPush.Status.IN_PROGRESS)
    )
    mine = PendingPush.objects.filter(store=store, status=PendingPush.Status.IN_PROGRESS)
    if getattr(settings, "INVENTORY_TEST_MODE", False):
        held = due.exclude(sku__environment="test").count()
        if held:
            log.add("held_test_mode", held)
            log.say(_("Test mode: %(count)d production SKUs held back, not sent."), count=held)
        due = due.filter(sku__environment="test")
        mine = mine.filter(sku__environment="test")
    if not due.update(status=PendingPush.Status.IN_PROGRESS, updated_at=now):
        return []
    registration = StoreSku.objects.filter(store=store, sku_id=OuterRef("sku_id"))
    return list(
        mine.annotate(
            available=available_expression("sku_id"),
            registration_id=Subquery(registration.values("id")),
            safety=Subquery(registration.values("safety_stock")),
        ).values(
            "id",
            "sku_id",
            "attempts",
            "verify_after",
            "available",
            "registration_id",
            "safety",
        )
    )


def _push(store: Store, log: RunLog, now: dt.datetime) -> SyncRun:
    rows = _claim(store, now, log)
    if not rows:
        return log.finish(SyncRun.Status.SUCCEEDED)
    log.run.details = {**log.run.details, "total": len(rows)}
    log.save()
    target = adapter_class(store.platform_type)
    unbound_message = str(target.unbound_message)
    # A row whose SKU is no longer registered in the store has nothing to tell it.
    unregistered = [row for row in rows if row["registration_id"] is None]
    if unregistered:
        _fail(unregistered, unbound_message)
        log.add("failed", len(unregistered))
    work = [row for row in rows if row["registration_id"] is not None]
    rules = StoreRules(store, now)
    for row in work:
        row["update"] = StockUpdate(
            registration_id=row["registration_id"],
            sku_id=row["sku_id"],
            quantity=allocate(
                row["available"] or 0,
                rules.for_sku(row["sku_id"], row["safety"]),
                target.quantity_max,
            ).quantity,
        )
    # Stock at or near zero first: those are the ones that oversell.
    work.sort(key=lambda row: (row["update"].quantity, row["sku_id"]))
    try:
        adapter: StockTarget = adapter_for(store)
    except PlatformError as exc:
        _backoff(work, str(exc), now)
        return log.finish(SyncRun.Status.FAILED, str(exc))
    work = _verify(adapter, store, work, now, log)
    status = SyncRun.Status.SUCCEEDED
    error = ""
    by_registration = {row["update"].registration_id: row for row in work}
    handled: set[int] = set()  # registrations of the batches sent so far
    unbound_seen = bool(unregistered)
    # Each batch's keys are read just before it goes, while the rate limiter holds the
    # call back anyway: the first call goes out after one UPDATE, one SELECT and one read.
    for batch in adapter.batches([row["update"] for row in work]):
        if handled and log.cancelled():
            rest = [row for row in work if row["update"].registration_id not in handled]
            _hold(rest, dict.fromkeys(by_registration, str(MSG_STOPPED)), now, now)
            log.say(
                _("Stopped by staff after %(done)d of %(total)d rows; the rest stays due."),
                done=len(handled),
                total=len(work),
            )
            log.add("deferred", len(rest))
            status = SyncRun.Status.CANCELLED
            break
        bound = target.binder.keys_of([update.registration_id for update in batch])
        unbound = [
            by_registration[u.registration_id] for u in batch if u.registration_id not in bound
        ]
        if unbound:
            _fail(unbound, unbound_message)
            log.add("failed", len(unbound))
            unbound_seen = True
        updates = [update for update in batch if update.registration_id in bound]
        if not updates:
            handled.update(update.registration_id for update in batch)
            continue
        try:
            result = adapter.push_stock(updates)
        except PlatformError as exc:
            rest = [row for row in work if row["update"].registration_id not in handled]
            error = str(exc)
            _backoff(rest, error, now, retry_after=exc.retry_after)
            log.add("deferred", len(rest))
            log.say(
                _("Stopped at row %(row)d of %(total)d: %(error)s"),
                row=len(handled),
                total=len(work),
                error=exc,
            )
            status = SyncRun.Status.FAILED if not handled else SyncRun.Status.PARTIAL
            if isinstance(exc, PlatformAuthError):
                log.say(_("The store's credentials were refused: fix them, then retry."))
            break
        handled.update(update.registration_id for update in batch)
        for registration_id, error in result.refused.items():
            row = by_registration[registration_id]
            _fail([row], error, sent=True)
            log.say(_("%(sku)s refused: %(error)s"), sku=row["sku_id"], error=error)
        if result.refused:
            log.add("failed", len(result.refused))
        for registration_id, reason in result.retry.items():
            _backoff([by_registration[registration_id]], reason, now)
            log.say(
                _("%(sku)s: %(reason)s (tried again later)"),
                sku=by_registration[registration_id]["sku_id"],
                reason=reason,
            )
            log.add("deferred")
        if result.held:
            _hold(
                [by_registration[registration_id] for registration_id in result.held],
                result.held,
                result.held_until or now,
                now,
            )
            for registration_id, reason in result.held.items():
                log.say(
                    _("%(sku)s held: %(reason)s"),
                    sku=by_registration[registration_id]["sku_id"],
                    reason=reason,
                )
            log.add("held", len(result.held))
        sent = [by_registration[registration_id] for registration_id in result.accepted]
        _done(store, sent, now, uncertain=set(result.uncertain))
        if result.uncertain:
            log.add("to_verify", len(result.uncertain))
            log.say(
                _(
                    "%(count)d rows may have been written after a timeout: "
                    "read back in %(seconds)d s."
                ),
                count=len(result.uncertain),
                seconds=settings.SYNC_VERIFY_SECONDS,
            )
        log.add("pushed", len(sent))
        log.save()  # the page's progress bar reads the run between batches
        if result.refused or result.retry:
            status = SyncRun.Status.PARTIAL
    if unbound_seen and status == SyncRun.Status.SUCCEEDED:
        status = SyncRun.Status.PARTIAL
    return log.finish(status, error)


def _verify(
    adapter: StockTarget, store: Store, work: list[Row], now: dt.datetime, log: RunLog
) -> list[Row]:
    """Rows whose read-back is due: those the store shows as we last told it are done;
    the others (a late write landed over ours) are pushed again. Returns what to push."""
    due = [row for row in work if row["verify_after"] and row["verify_after"] <= now]
    if not due:
        return work
    try:
        shown = adapter.stock_of([row["update"].registration_id for row in due])
    except PlatformError as exc:
        log.say(_("Read-back failed (%(error)s): pushing again instead."), error=exc)
        return work
    confirmed = [
        row for row in due if shown.get(row["update"].registration_id) == row["update"].quantity
    ]
    _done(store, confirmed, now, uncertain=set(), verified=True)
    log.add("verified", len(confirmed))
    late = len(due) - len(confirmed)
    if late:
        log.add("late_writes_repaired", late)
        log.say(_("%(count)d SKUs showed an older value written late: pushed again."), count=late)
    confirmed_ids = {row["id"] for row in confirmed}
    return [row for row in work if row["id"] not in confirmed_ids]


def _done(
    store: Store,
    rows: list[Row],
    now: dt.datetime,
    *,
    uncertain: set[int],
    verified: bool = False,
) -> None:
    """Rows the store took. A row still to be read back (an uncertain write, now or
    earlier and not yet read back) stays, due at its read-back time; the others go."""
    verify_at = now + dt.timedelta(seconds=settings.SYNC_VERIFY_SECONDS)
    keep: dict[int, dt.datetime] = {}
    for row in rows:
        if row["update"].registration_id in uncertain:
            keep[row["id"]] = verify_at
        elif not verified and row["verify_after"] and row["verify_after"] > now:
            keep[row["id"]] = row["verify_after"]
    ids = [row["id"] for row in rows if row["id"] not in keep]
    with transaction.atomic():
        for row_id, at in keep.items():
            PendingPush.objects.filter(id=row_id).update(verify_after=at)
            PendingPush.objects.filter(id=row_id, status=PendingPush.Status.IN_PROGRESS).update(
                status=PendingPush.Status.PENDING, attempts=0, next_attempt_at=at, updated_at=now
            )
        # A row an event made pending again while we pushed stays for the next push.
        PendingPush.objects.filter(id__in=ids, status=PendingPush.Status.IN_PROGRESS).delete()
        registrations = {
            reg.sku_id: reg
            for reg in StoreSku.objects.filter(store=store, sku_id__in=[r["sku_id"] for r in rows])
        }
        for row in rows:
            registration = registrations[row["sku_id"]]
            registration.last_pushed_quantity = row["update"].quantity
            registration.last_pushed_at = now
        StoreSku.objects.bulk_update(
            registrations.values(), ["last_pushed_quantity", "last_pushed_at"]
        )


def _hold(
    rows: list[Row], reasons: Mapping[int, str], until: dt.datetime, now: dt.datetime
) -> None:
    """Rows the platform's own budget would refuse: pending again at ``until``, no attempt
    counted, the reason kept on the row until then."""
    for row in rows:
        PendingPush.objects.filter(id=row["id"], status=PendingPush.Status.IN_PROGRESS).update(
            status=PendingPush.Status.PENDING,
            next_attempt_at=until,
            last_error=reasons[row["update"].registration_id][:2000],
            updated_at=now,
        )


def _fail(rows: list[Row], error: str, *, sent: bool = False) -> None:
    """Set rows aside as failed; ``sent``: the platform refused them (an attempt counted),
    not rows that could not be sent at all (no registration or binding)."""
    PendingPush.objects.filter(
        id__in=[row["id"] for row in rows], status=PendingPush.Status.IN_PROGRESS
    ).update(
        status=PendingPush.Status.FAILED,
        last_error=error[:2000],
        updated_at=timezone.now(),
        attempts=F("attempts") + 1 if sent else F("attempts"),
    )


def _backoff(
    rows: list[Row], error: str, now: dt.datetime, *, retry_after: float | None = None
) -> None:
    """Count the attempt; schedule the next one, or give up after the last."""
    limit = settings.SYNC_PUSH_MAX_ATTEMPTS
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_attempts[row["attempts"] + 1].append(row["id"])
    for attempts, ids in by_attempts.items():
        for chunk in _in_chunks(ids):
            mine = PendingPush.objects.filter(id__in=chunk, status=PendingPush.Status.IN_PROGRESS)
            if attempts >= limit:
                mine.update(
                    status=PendingPush.Status.FAILED,
                    attempts=attempts,
                    last_error=error[:2000],
                    updated_at=now,
                )
            else:
                mine.update(
                    status=PendingPush.Status.PENDING,
                    attempts=attempts,
                    last_error=error[:2000],
                    next_attempt_at=now + retry_delay(attempts, retry_after=retry_after),
                    updated_at=now,
                )


def push_request(*, store_id: str, sku_ids: Iterable[str] | None = None) -> int:
    """Make pushes due now (staff's "push" button, `push_inventory --all`); return how many."""
    registrations = StoreSku.objects.filter(store_id=store_id)
    if sku_ids is not None:
        registrations = registrations.filter(sku_id__in=[s.lower() for s in sku_ids])
    with transaction.atomic():
        if sku_ids is None:
            outbox_mark_store(store_id=store_id)
        else:
            for sku_id in registrations.values_list("sku_id", flat=True):
                outbox_mark(sku_id=sku_id, store_id=store_id)
        PendingPush.objects.filter(store_id=store_id, status=PendingPush.Status.PENDING).filter(
            sku_id__in=registrations.values("sku_id")
        ).update(next_attempt_at=timezone.now())
    return registrations.count()


def push_all_start(*, store_id: str, actor: Actor) -> SyncRun:
    """Staff's "push every SKU now": every registration due, and the run row the page
    follows; the push itself runs as a task once this commits."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        count = push_request(store_id=store.store_id)
        run = SyncRun.objects.create(
            store=store,
            kind=SyncRun.Kind.PUSH,
            operator=actor.username,
            details={"requested": count},
        )
        audit_record(
            actor=actor,
            action=AuditAction.PUSH_ALL,
            details={"store_id": store.store_id, "skus": count},
        )
        transaction.on_commit(lambda: async_task("sync.tasks.push_run_task", run.pk))
    return run


def failed_syncs_retry(
    *,
    actor: Actor,
    push_ids: Iterable[int] | None = None,
    order_ids: Iterable[int] | None = None,
) -> int:
    """Staff's retry from the failed-sync page: the rows named (or, naming none, every
    failed push and every platform's failed follow-up, such as RMS's order confirmations)
    due again now, audited, and a push started after commit."""
    every = push_ids is None and order_ids is None
    with transaction.atomic(durable=True):
        retried = 0
        if every or push_ids is not None:
            retried += failed_retry(ids=push_ids)
        if every or order_ids is not None:
            for platform in platforms().values():
                retried += platform.followups_retry(order_ids)
        audit_record(
            actor=actor,
            action=AuditAction.FAILED_RETRY,
            details={
                "pushes": "all" if every else sorted(push_ids or []),
                "orders": "all" if every else sorted(order_ids or []),
                "retried": retried,
            },
        )
        if retried:
            transaction.on_commit(lambda: async_task("sync.tasks.retry_now"))
    return retried


def stores_with_due_pushes(now: dt.datetime | None = None) -> list[str]:
    now = now or timezone.now()
    return list(
        PendingPush.objects.filter(
            Q(status=PendingPush.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=PendingPush.Status.IN_PROGRESS),
            store__status=Store.Status.ACTIVE,
        )
        .values_list("store_id", flat=True)
        .distinct()
        .order_by("store_id")
    )
