"""The sync engine's writes: order polling, order confirmation, runs.

Pushes are in `rakuten.push`, SKU sync and reconcile in `rakuten.catalog`.

Every (store, order, SKU) converges: the net of its ORDER_* events equals what
the order holds now on RMS (0 once cancelled). Each poll re-reads the orders and
records only the difference, with a token derived from the transition, so any
number of replays adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction, EventSource, EventType
from events.services import audit_record, event_record, make_token
from stores.models import Store, StoreSku
from sync.leases import job_lease
from sync.models import PollState, SyncRun

from .client import RmsClient
from .errors import RmsError
from .models import OrderSkuState, RakutenOrder, RakutenOrderLine
from .types import Order, OrderProgress

logger = logging.getLogger("rakuten.sync")

MSG_BUSY = _("Another run holds this store; nothing was done.")
MSG_STORE_INACTIVE = _("The store is inactive.")

FINAL_PROGRESS = frozenset({500, 600, 700, 900})
POLL_OPERATOR = "rakuten:poll"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def retry_delay(attempts: int, *, retry_after: float | None = None) -> dt.timedelta:
    """Backoff after the n-th failed attempt: base·2^(n-1), capped, plus up to 10% jitter."""
    base = _setting("RAKUTEN_RETRY_BASE_SECONDS", 60)
    cap = _setting("RAKUTEN_RETRY_CAP_SECONDS", 3600)
    seconds = min(cap, base * 2 ** max(attempts - 1, 0))
    seconds += seconds * 0.1 * random.random()  # noqa: S311 - jitter, not security
    return dt.timedelta(seconds=max(seconds, retry_after or 0))


# --- runs ----------------------------------------------------------------------------


@dataclass
class RunLog:
    """Counts and log lines of a run, written to its row at the end (and between pages)."""

    run: SyncRun
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: list[str] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def say(self, message: str, *args: Any) -> None:
        text = message % args if args else message
        self.lines.append(f"{timezone.now():%H:%M:%S} {text}")
        logger.info("%s %s: %s", self.run.kind, self.run.store_id, text)

    def save(self, **fields: Any) -> None:
        self.run.counts = dict(self.counts)
        self.run.log = "\n".join(self.lines[-500:])
        for name, value in fields.items():
            setattr(self.run, name, value)
        self.run.save()

    def finish(self, status: str, error: str = "") -> SyncRun:
        self.save(status=status, error=error[:2000], finished_at=timezone.now())
        return self.run

    def cancelled(self) -> bool:
        return SyncRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists()


def run_start(store: Store, kind: str, operator: str = "system") -> RunLog:
    return RunLog(SyncRun.objects.create(store=store, kind=kind, operator=operator))


def run_skipped(store: Store, kind: str, operator: str = "system") -> SyncRun:
    return SyncRun.objects.create(
        store=store,
        kind=kind,
        operator=operator,
        status=SyncRun.Status.SKIPPED,
        finished_at=timezone.now(),
        error=str(MSG_BUSY),
    )


# --- matching order lines to SKUs ---------------------------------------------------------


class SkuMatcher:
    """Order line -> our SKU through the store's registrations (DESIGN.md, Polling)."""

    def __init__(self, store_id: str) -> None:
        self.by_variant: dict[tuple[str, str], str] = {}
        self.by_merchant: dict[str, str] = {}
        self.registered: set[str] = set()
        rows = StoreSku.objects.filter(store_id=store_id).values_list(
            "sku_id", "manage_number", "variant_id", "merchant_sku_id"
        )
        for sku_id, manage_number, variant_id, merchant_sku_id in rows:
            self.registered.add(sku_id)
            if manage_number and variant_id:
                self.by_variant[(manage_number.lower(), variant_id)] = sku_id
            if merchant_sku_id:
                self.by_merchant[merchant_sku_id] = sku_id

    def match(self, manage_number: str, variant_id: str, merchant_sku_id: str) -> str | None:
        found = self.by_variant.get((manage_number.lower(), variant_id))
        if found is None and merchant_sku_id:
            found = self.by_merchant.get(merchant_sku_id)
        if found is None:
            for candidate in (merchant_sku_id, variant_id, manage_number):
                if candidate and candidate.lower() in self.registered:
                    return candidate.lower()
        return found


# --- applying one order -------------------------------------------------------------------


def _order_store(store: Store, order: Order, now: dt.datetime) -> RakutenOrder:
    row, _created = RakutenOrder.objects.select_for_update().get_or_create(
        store=store,
        order_number=order.order_number,
        defaults={"progress": order.progress, "ordered_at": order.ordered_at, "first_seen_at": now},
    )
    row.progress = order.progress
    row.ordered_at = order.ordered_at or row.ordered_at
    row.final = order.progress in FINAL_PROGRESS
    row.last_seen_at = now
    confirm = bool(store.api_config.get("confirm_orders"))
    if confirm and order.progress == OrderProgress.AWAITING_CONFIRMATION and not row.confirm_status:
        row.confirm_status = RakutenOrder.ConfirmStatus.PENDING
        row.confirm_next_at = now
    row.save()
    old = {line.position: line.sku_id for line in row.lines.all()}
    row.lines.all().delete()
    RakutenOrderLine.objects.bulk_create(
        RakutenOrderLine(
            order=row,
            position=position,
            manage_number=line.manage_number[:64],
            variant_id=line.variant_id[:64],
            merchant_sku_id=(line.merchant_sku_id or "")[:96],
            units=max(line.units, 0),
            deleted=line.deleted,
            sku_id=old.get(position),
        )
        for position, line in enumerate(order.lines)
    )
    return row


def order_converge(row: RakutenOrder, matcher: SkuMatcher) -> int:
    """Record the events that bring the ledger to what the order holds now.

    Runs in the caller's transaction; returns the number of events recorded."""
    lines = list(row.lines.all())
    targets: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.sku_id is None:
            sku_id = matcher.match(line.manage_number, line.variant_id, line.merchant_sku_id)
            if sku_id is not None:
                line.sku_id = sku_id
                line.save(update_fields=["sku"])
        if line.sku_id is None:
            continue
        counts = not line.deleted and row.progress != OrderProgress.CANCELLED
        targets[line.sku_id] += line.units if counts else 0
    states = {s.sku_id: s for s in OrderSkuState.objects.select_for_update().filter(order=row)}
    recorded = 0
    for sku_id in sorted(set(targets) | set(states)):
        state = states.get(sku_id) or OrderSkuState(order=row, sku_id=sku_id)
        target = targets.get(sku_id, 0)
        difference = target - state.taken
        common = {
            "sku_id": sku_id,
            "source": EventSource.API,
            "operator": POLL_OPERATOR,
            "store_id": row.store_id,
            "order_id": row.order_number,
            "platform_status": str(row.progress),
        }
        if difference:
            if difference > 0:
                kind = EventType.ORDER_RECEIVED if state.events == 0 else EventType.ORDER_MODIFIED
            elif target == 0 and row.progress == OrderProgress.CANCELLED:
                kind = EventType.ORDER_CANCELLED
            else:
                kind = EventType.ORDER_MODIFIED
            event_record(
                quantity=-difference,
                event_type=kind,
                token=make_token(
                    "rakuten", row.store_id, row.order_number, sku_id, state.events, target
                ),
                metadata={"units": target, "was": state.taken},
                **common,
            )
            state.taken = target
            state.events += 1
            recorded += 1
        if (
            target > 0
            and not state.confirmed_recorded
            and OrderProgress.AWAITING_SHIPMENT <= row.progress < OrderProgress.CANCELLED
        ):
            event_record(
                quantity=0,
                event_type=EventType.ORDER_CONFIRMED,
                token=make_token("rakuten", row.store_id, row.order_number, sku_id, "confirmed"),
                **common,
            )
            state.confirmed_recorded = True
            recorded += 1
        state.save()
    return recorded


def order_apply(*, store: Store, order: Order, matcher: SkuMatcher, now: dt.datetime) -> int:
    """Store one order as RMS shows it and bring the ledger to it, in one transaction."""
    with transaction.atomic(durable=True):
        row = _order_store(store, order, now)
        return order_converge(row, matcher)


def unmatched_apply(*, store_id: str, matcher: SkuMatcher | None = None) -> int:
    """Apply the lines that matched no SKU before and match one now (no call to RMS)."""
    matcher = matcher or SkuMatcher(store_id)
    order_ids = (
        RakutenOrderLine.objects.filter(order__store_id=store_id, sku__isnull=True)
        .values_list("order_id", flat=True)
        .distinct()
    )
    recorded = 0
    for order_id in list(order_ids):
        with transaction.atomic(durable=True):
            row = RakutenOrder.objects.select_for_update().get(pk=order_id)
            recorded += order_converge(row, matcher)
    return recorded


# --- polling ---------------------------------------------------------------------------------


def _search_windows(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    windows = []
    step = dt.timedelta(days=62)
    while start < end:
        windows.append((start, min(start + step, end)))
        start += step
    return windows


def _search(client: RmsClient, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[str]:
    """Every order number placed in [start, end]; halves a window RMS would truncate."""
    result = client.search_orders(start, end, now=now)
    if not result.truncated or end - start <= dt.timedelta(minutes=1):
        return result.order_numbers
    middle = start + (end - start) / 2
    return _search(client, start, middle, now) + _search(client, middle, end, now)


def orders_poll(
    *,
    store_id: str,
    now: dt.datetime | None = None,
    since: dt.datetime | None = None,
    sweep: bool = False,
    actor: Actor | None = None,
    client: RmsClient | None = None,
) -> SyncRun:
    """Poll one store: new orders since the cursor, and every order seen that is not final.

    `sweep` searches the whole lookback instead (orders changed after shipping).
    One poll per store at a time: a second one is recorded as skipped. A poll a
    person asks for (`actor`) is audited."""
    store = Store.objects.get(pk=store_id)
    operator = actor.username if actor else "system"
    if actor is not None and not actor.is_system:
        audit_record(
            actor=actor,
            action=AuditAction.MANUAL_POLL,
            details={
                "store_id": store_id,
                "since": since.isoformat() if since else None,
                "sweep": sweep,
            },
        )
    with job_lease(f"poll:{store_id}") as token:
        if token is None:
            return run_skipped(store, SyncRun.Kind.POLL, operator)
        log = run_start(store, SyncRun.Kind.POLL, operator)
        try:
            return _poll(store, log, now or timezone.now(), since, sweep, client)
        except RmsError as exc:
            log.say("stopped: %s", exc)
            return log.finish(SyncRun.Status.FAILED, str(exc))
        except Exception as exc:
            log.finish(SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
            raise


def _poll(
    store: Store,
    log: RunLog,
    now: dt.datetime,
    since: dt.datetime | None,
    sweep: bool,
    client: RmsClient | None,
) -> SyncRun:
    if store.status != Store.Status.ACTIVE:
        log.say(str(MSG_STORE_INACTIVE))
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_STORE_INACTIVE))
    client = client or RmsClient.for_store(store)
    state, _ = PollState.objects.get_or_create(store=store)
    lookback = dt.timedelta(days=_setting("RAKUTEN_POLL_LOOKBACK_DAYS", 30))
    overlap = dt.timedelta(minutes=_setting("RAKUTEN_POLL_OVERLAP_MINUTES", 60))
    # Orders placed before the first poll are already in the stock we started from.
    origin = state.origin or since or now
    if state.origin is None:
        state.origin = origin
    if since is not None:
        start = since
    elif sweep:
        start = now - lookback
    else:
        start = (state.cursor - overlap) if state.cursor else origin
    start = max(start, origin, now - dt.timedelta(days=729))
    found: list[str] = []
    for window_start, window_end in _search_windows(start, now):
        found += _search(client, window_start, window_end, now)
    log.add("found", len(found))
    final = set()
    for offset in range(0, len(found), 500):
        final.update(
            RakutenOrder.objects.filter(
                store=store, final=True, order_number__in=found[offset : offset + 500]
            ).values_list("order_number", flat=True)
        )
    wanted = dict.fromkeys(n for n in found if sweep or n not in final)
    # Cancellations and quantity changes only show on the orders themselves.
    wanted.update(
        dict.fromkeys(
            RakutenOrder.objects.filter(store=store, final=False).values_list(
                "order_number", flat=True
            )
        )
    )
    wanted = list(wanted)
    log.say("searched %s .. %s: %d found, %d to read", start, now, len(found), len(wanted))
    matcher = SkuMatcher(store.store_id)
    for offset in range(0, len(wanted), 100):
        result = client.get_orders(wanted[offset : offset + 100])
        for number in result.not_found:
            log.say("order %s: not found on RMS", number)
            log.add("not_found")
        for order in result.orders:
            events = order_apply(store=store, order=order, matcher=matcher, now=now)
            log.add("orders")
            log.add("events", events)
    log.add("events", unmatched_apply(store_id=store.store_id, matcher=matcher))
    log.add(
        "unmatched_lines",
        RakutenOrderLine.objects.filter(order__store=store, sku__isnull=True).count(),
    )
    state.cursor = now if since is None or state.cursor is None else max(state.cursor, now)
    state.last_poll_at = now
    if sweep:
        state.last_sweep_at = now
    state.save()
    log.say(
        "%d orders read, %d events recorded",
        log.counts.get("orders", 0),
        log.counts.get("events", 0),
    )
    return log.finish(SyncRun.Status.SUCCEEDED)


# --- order confirmation -------------------------------------------------------------------------


def orders_confirm(
    *, store_id: str, now: dt.datetime | None = None, client: RmsClient | None = None
) -> SyncRun:
    """Confirm the store's pending orders (100) whose events are recorded; retry with backoff."""
    store = Store.objects.get(pk=store_id)
    now = now or timezone.now()
    with job_lease(f"confirm:{store_id}") as token:
        if token is None:
            return run_skipped(store, SyncRun.Kind.CONFIRM)
        log = run_start(store, SyncRun.Kind.CONFIRM)
        due = RakutenOrder.objects.filter(
            store=store,
            confirm_status=RakutenOrder.ConfirmStatus.PENDING,
            confirm_next_at__lte=now,
        )
        numbers = list(due.values_list("order_number", flat=True))
        if not numbers:
            return log.finish(SyncRun.Status.SUCCEEDED)
        try:
            result = (client or RmsClient.for_store(store)).confirm_orders(numbers)
        except RmsError as exc:
            _confirm_failed(store, numbers, {n: str(exc) for n in numbers}, now)
            log.add("failed", len(numbers))
            log.say("confirmOrder failed: %s", exc)
            return log.finish(SyncRun.Status.FAILED, str(exc))
        RakutenOrder.objects.filter(store=store, order_number__in=result.confirmed).update(
            confirm_status=RakutenOrder.ConfirmStatus.DONE, confirm_error=""
        )
        _confirm_failed(store, list(result.failed), result.failed, now)
        log.add("confirmed", len(result.confirmed))
        log.add("failed", len(result.failed))
        for number, message in result.failed.items():
            log.say("order %s not confirmed: %s", number, message)
        status = SyncRun.Status.PARTIAL if result.failed else SyncRun.Status.SUCCEEDED
        return log.finish(status)


def _confirm_failed(
    store: Store, numbers: Iterable[str], errors: dict[str, str], now: dt.datetime
) -> None:
    limit = _setting("RAKUTEN_CONFIRM_MAX_ATTEMPTS", 8)
    for row in RakutenOrder.objects.filter(store=store, order_number__in=list(numbers)):
        row.confirm_attempts += 1
        row.confirm_error = errors.get(row.order_number, "")[:2000]
        if row.confirm_attempts >= limit:
            row.confirm_status = RakutenOrder.ConfirmStatus.FAILED
        else:
            row.confirm_next_at = now + retry_delay(row.confirm_attempts)
        row.save(
            update_fields=["confirm_attempts", "confirm_error", "confirm_status", "confirm_next_at"]
        )


# --- auth test -------------------------------------------------------------------------------

MSG_AUTH_OK = _("RMS accepted the credentials; the licence key expires on %(date)s.")


def store_auth_test(*, store_id: str, client: RmsClient | None = None) -> tuple[bool, str]:
    """Ask RMS when the store's licence key expires (the seed's auth-test); keep the answer."""
    store = Store.objects.get(pk=store_id)
    now = timezone.now()
    try:
        expiry = (client or RmsClient.for_store(store)).license_expiry()
    except RmsError as exc:
        message = str(exc)
        if getattr(exc, "license_expired", False):
            message = str(_("The licence key has expired: issue a new one in RMS.")) + f" ({exc})"
        Store.objects.filter(pk=store_id).update(
            last_auth_test_at=now, last_auth_error=message[:2000]
        )
        return False, message
    Store.objects.filter(pk=store_id).update(
        last_auth_test_at=now, last_auth_error="", license_expires_at=expiry.expires_at
    )
    return True, str(MSG_AUTH_OK % {"date": f"{expiry.expires_at:%Y-%m-%d}"})


def confirmations_retry(
    *, store_id: str | None = None, order_ids: Iterable[int] | None = None
) -> int:
    """Staff's retry of failed order confirmations: pending again, due now."""
    rows = RakutenOrder.objects.filter(confirm_status=RakutenOrder.ConfirmStatus.FAILED)
    if store_id:
        rows = rows.filter(store_id=store_id)
    if order_ids is not None:
        rows = rows.filter(pk__in=list(order_ids))
    return rows.update(
        confirm_status=RakutenOrder.ConfirmStatus.PENDING,
        confirm_attempts=0,
        confirm_next_at=timezone.now(),
    )


def poll_start(*, store_id: str, actor: Actor) -> None:
    """Staff's "poll now": audited at once, the poll runs as a task after commit."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        audit_record(
            actor=actor, action=AuditAction.MANUAL_POLL, details={"store_id": store.store_id}
        )
        transaction.on_commit(
            lambda: async_task(
                "rakuten.tasks.poll_store", store.store_id, task_name=f"manual poll {store_id}"
            )
        )
