"""Order polling and convergence, the same for every platform.

Every (store, order, SKU) converges: the net of its ORDER_* events equals what the
order holds now on the platform (0 once cancelled, a deleted line counts 0). The
adapter yields what each order holds (``OrderSnapshot``); the engine records only the
difference, with a token derived from the transition, so any number of replays adds
nothing. An order first seen after its confirmation still takes its units once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction, EventSource, EventType
from events.services import audit_record, event_record, make_token
from stores.models import Store

from .adapters import OrderSnapshot, PollWindow
from .models import Order, OrderLine, OrderSkuState, PollState, SyncRun
from .registry import adapter_class, adapter_for
from .runs import RunLog, run_job

MSG_STORE_INACTIVE = _("The store is inactive.")
MSG_NO_ORDERS = _("This platform has no orders to poll.")

POLL_OPERATOR_SUFFIX = ":poll"

Matcher = Callable[[Mapping[str, str]], str | None]


def _order_store(store: Store, snapshot: OrderSnapshot, label: Callable, now: dt.datetime) -> Order:
    row, _created = Order.objects.select_for_update().get_or_create(
        store=store,
        order_number=snapshot.number,
        defaults={
            "platform_status": snapshot.status,
            "ordered_at": snapshot.ordered_at,
            "first_seen_at": now,
        },
    )
    row.platform_status = snapshot.status
    row.ordered_at = snapshot.ordered_at or row.ordered_at
    row.final = snapshot.final
    row.cancelled = snapshot.cancelled
    row.confirmed = snapshot.confirmed
    row.last_seen_at = now
    row.save()
    old = {line.position: line.sku_id for line in row.lines.all()}
    row.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=row,
            position=position,
            listing=dict(line.listing),
            listing_label=label(line.listing)[:200],
            units=max(line.units, 0),
            deleted=not line.counts,
            sku_id=old.get(position),
        )
        for position, line in enumerate(snapshot.lines)
    )
    return row


def order_converge(row: Order, matcher: Matcher) -> int:
    """Record the events that bring the ledger to what the order holds now.

    Runs in the caller's transaction; returns the number of events recorded."""
    platform = row.store.platform_type
    targets: dict[str, int] = defaultdict(int)
    for line in row.lines.all():
        if line.sku_id is None:
            sku_id = matcher(line.listing)
            if sku_id is not None:
                line.sku_id = sku_id
                line.save(update_fields=["sku"])
        if line.sku_id is None:
            continue
        targets[line.sku_id] += line.units if not line.deleted and not row.cancelled else 0
    states = {s.sku_id: s for s in OrderSkuState.objects.select_for_update().filter(order=row)}
    recorded = 0
    for sku_id in sorted(set(targets) | set(states)):
        state = states.get(sku_id) or OrderSkuState(order=row, sku_id=sku_id)
        target = targets.get(sku_id, 0)
        difference = target - state.taken
        common = {
            "sku_id": sku_id,
            "source": EventSource.API,
            "operator": platform + POLL_OPERATOR_SUFFIX,
            "store_id": row.store_id,
            "order_id": row.order_number,
            "platform_status": row.platform_status,
        }
        if difference:
            if difference > 0:
                kind = EventType.ORDER_RECEIVED if state.events == 0 else EventType.ORDER_MODIFIED
            elif target == 0 and row.cancelled:
                kind = EventType.ORDER_CANCELLED
            else:
                kind = EventType.ORDER_MODIFIED
            event_record(
                quantity=-difference,
                event_type=kind,
                token=make_token(
                    platform, row.store_id, row.order_number, sku_id, state.events, target
                ),
                metadata={"units": target, "was": state.taken},
                **common,
            )
            state.taken = target
            state.events += 1
            recorded += 1
        if target > 0 and not state.confirmed_recorded and row.confirmed:
            event_record(
                quantity=0,
                event_type=EventType.ORDER_CONFIRMED,
                token=make_token(platform, row.store_id, row.order_number, sku_id, "confirmed"),
                **common,
            )
            state.confirmed_recorded = True
            recorded += 1
        state.save()
    return recorded


def order_apply(
    *,
    store: Store,
    snapshot: OrderSnapshot,
    matcher: Matcher,
    now: dt.datetime,
    adapter: object | None = None,
) -> int:
    """Store one order as the platform shows it and bring the ledger to it, in one
    transaction; returns the number of events recorded."""
    label = adapter_class(store.platform_type).binder.label
    with transaction.atomic(durable=True):
        row = _order_store(store, snapshot, label, now)
        hook = getattr(adapter, "order_applied", None)
        if hook is not None:
            hook(row, snapshot)
        return order_converge(row, matcher)


def unmatched_apply(*, store: Store, matcher: Matcher | None = None) -> int:
    """Apply the lines that matched no SKU before and match one now (no platform call)."""
    matcher = matcher or adapter_class(store.platform_type).binder.matcher(store)
    order_ids = (
        OrderLine.objects.filter(order__store=store, sku__isnull=True)
        .values_list("order_id", flat=True)
        .distinct()
    )
    recorded = 0
    for order_id in list(order_ids):
        with transaction.atomic(durable=True):
            row = Order.objects.select_for_update().select_related("store").get(pk=order_id)
            recorded += order_converge(row, matcher)
    return recorded


def _known_final(store: Store) -> Callable[[Sequence[str]], set[str]]:
    def known_final(numbers: Sequence[str]) -> set[str]:
        final: set[str] = set()
        for offset in range(0, len(numbers), 500):
            final.update(
                Order.objects.filter(
                    store=store, final=True, order_number__in=numbers[offset : offset + 500]
                ).values_list("order_number", flat=True)
            )
        return final

    return known_final


def orders_poll(
    *,
    store_id: str,
    now: dt.datetime | None = None,
    since: dt.datetime | None = None,
    sweep: bool = False,
    actor: Actor | None = None,
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
    return run_job(
        store=store,
        kind=SyncRun.Kind.POLL,
        operator=operator,
        work=lambda log: _poll(store, log, now or timezone.now(), since, sweep),
    )


def _poll(
    store: Store, log: RunLog, now: dt.datetime, since: dt.datetime | None, sweep: bool
) -> SyncRun:
    if store.status != Store.Status.ACTIVE:
        log.say(str(MSG_STORE_INACTIVE))
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_STORE_INACTIVE))
    adapter = adapter_for(store)
    if not hasattr(adapter, "orders_changed"):
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_NO_ORDERS))
    state, _ = PollState.objects.get_or_create(store=store)
    lookback = dt.timedelta(days=settings.SYNC_POLL_LOOKBACK_DAYS)
    overlap = dt.timedelta(minutes=settings.SYNC_POLL_OVERLAP_MINUTES)
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
    start = max(start, origin)

    def found(count: int, to_read: int) -> None:
        log.add("found", count)
        log.say("searched %s .. %s: %d found, %d to read", start, now, count, to_read)

    window = PollWindow(
        start=start,
        end=now,
        sweep=sweep,
        open_orders=tuple(
            Order.objects.filter(store=store, final=False).values_list("order_number", flat=True)
        ),
        known_final=_known_final(store),
        on_found=found,
    )
    matcher = adapter.binder.matcher(store)
    for snapshot in adapter.orders_changed(window):
        if snapshot.missing:
            log.say("order %s: not found on the platform", snapshot.number)
            log.add("not_found")
            continue
        events = order_apply(
            store=store, snapshot=snapshot, matcher=matcher, now=now, adapter=adapter
        )
        log.add("orders")
        log.add("events", events)
    log.add("events", unmatched_apply(store=store, matcher=matcher))
    log.add(
        "unmatched_lines",
        OrderLine.objects.filter(order__store=store, sku__isnull=True).count(),
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


def poll_start(*, store_id: str, actor: Actor) -> None:
    """Staff's "poll now": audited at once, the poll runs as a task after commit."""
    with transaction.atomic(durable=True):
        store = Store.objects.get(pk=store_id)
        audit_record(
            actor=actor, action=AuditAction.MANUAL_POLL, details={"store_id": store.store_id}
        )
        transaction.on_commit(
            lambda: async_task(
                "sync.tasks.poll_store", store.store_id, task_name=f"manual poll {store_id}"
            )
        )
