"""Order polling and convergence, the same for every platform.

Every (store, order, SKU) converges: the net of its ORDER_* events equals what the
order holds now on the platform (0 once cancelled, a deleted line counts 0). The
adapter yields what each order holds (``OrderSnapshot``); the engine records only the
difference, with a token derived from the transition, so any number of replays adds
nothing. An order first seen after its confirmation still takes its units once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from events.actors import Actor
from events.models import AuditAction, EventSource, EventType
from events.services import QUANTITY_LIMIT, audit_record, event_record, make_token
from skus.sets import compositions
from stores.models import Store

from .adapters import AppliedOrder, OrderSnapshot, PollWindow
from .errors import PlatformError
from .models import Order, OrderLine, OrderSkuState, PollState, QuarantinedOrder, SyncRun
from .registry import adapter_class, adapter_for
from .runs import LeaseLost, RunLog, run_job

MSG_STORE_INACTIVE = _("The store is inactive.")
MSG_NO_ORDERS = _("This platform has no orders to poll.")
MSG_BAD_NUMBER = _("The order number is empty or longer than %(limit)d characters.")
MSG_BAD_STATUS = _("The order status is longer than %(limit)d characters.")
MSG_BAD_UNITS = _("Line %(line)d asks for %(units)s units: a line takes 0 to %(limit)d.")

ORDER_NUMBER_MAX = 100
STATUS_MAX = 32
# Snapshots compared with what was applied (one query) and applied per batch.
APPLY_BATCH = 100
logger = logging.getLogger("sync.orders")

POLL_OPERATOR_SUFFIX = ":poll"

Matcher = Callable[[Mapping[str, str]], str | None]


def _line_key(line_id: str, listing: Mapping[str, str]) -> tuple:
    return ("id", line_id) if line_id else ("listing", *sorted(listing.items()))


def snapshot_problem(snapshot: OrderSnapshot) -> str | None:
    """Why the engine cannot apply this order as it is, or None."""
    if not snapshot.number or len(snapshot.number) > ORDER_NUMBER_MAX:
        return str(MSG_BAD_NUMBER % {"limit": ORDER_NUMBER_MAX})
    if len(snapshot.status) > STATUS_MAX:
        return str(MSG_BAD_STATUS % {"limit": STATUS_MAX})
    for position, line in enumerate(snapshot.lines):
        if not isinstance(line.units, int) or not 0 <= line.units <= QUANTITY_LIMIT:
            return str(
                MSG_BAD_UNITS % {"line": position + 1, "units": line.units, "limit": QUANTITY_LIMIT}
            )
    return None


def snapshot_digest(snapshot: OrderSnapshot) -> str:
    """A fingerprint of everything the engine applies of an order (status, flags, lines):
    equal digests mean a poll has nothing to apply."""
    payload = [
        snapshot.status,
        snapshot.final,
        snapshot.cancelled,
        snapshot.confirmed,
        snapshot.ordered_at.isoformat() if snapshot.ordered_at else None,
        [
            [line.line_id, sorted(line.listing.items()), line.units, line.counts]
            for line in snapshot.lines
        ],
    ]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def reread_due(ordered_at: dt.datetime | None, last_read: dt.datetime, now: dt.datetime) -> bool:
    """Whether an open order is due to be read again whatever a search says: after the
    time of its age's tier (``SYNC_POLL_REREAD_TIERS``) without a read."""
    age_minutes = (now - (ordered_at or last_read)).total_seconds() / 60
    for max_age, every in settings.SYNC_POLL_REREAD_TIERS:
        if max_age is None or age_minutes < max_age:
            return now - last_read >= dt.timedelta(minutes=every)
    return True  # the settings end with a "*" tier; unreachable


def quarantine_record(*, store: Store, snapshot: OrderSnapshot, reason: str) -> QuarantinedOrder:
    """Set an order aside with its reason (or count one more attempt of one set aside)."""
    now = timezone.now()
    row, created = QuarantinedOrder.objects.get_or_create(
        store=store,
        order_number=snapshot.number[:200],
        defaults={"reason": reason[:4000], "snapshot": asdict(snapshot)},
    )
    if not created:
        row.reason, row.snapshot = reason[:4000], asdict(snapshot)
        row.attempts += 1
        row.last_seen_at = now
        if row.status == QuarantinedOrder.Status.RESOLVED:
            row.status, row.closed_at = QuarantinedOrder.Status.OPEN, None
        row.save()
    return row


def _apply_or_quarantine(
    store: Store, snapshot: OrderSnapshot, matcher: Matcher, now: dt.datetime, adapter: Any
) -> tuple[int, str | None]:
    """(events recorded, None) or (0, why the order was set aside)."""
    problem = snapshot_problem(snapshot)
    if problem is None:
        try:
            events = order_apply(
                store=store, snapshot=snapshot, matcher=matcher, now=now, adapter=adapter
            )
        except (LeaseLost, PlatformError):
            raise
        except Exception as exc:  # one order the engine cannot apply must not stop the poll
            logger.warning("order %s of %s quarantined", snapshot.number, store.store_id)
            problem = f"{type(exc).__name__}: {exc}"
        else:
            QuarantinedOrder.objects.filter(
                store=store, order_number=snapshot.number, status=QuarantinedOrder.Status.OPEN
            ).update(status=QuarantinedOrder.Status.RESOLVED, closed_at=now)
            return events, None
    quarantine_record(store=store, snapshot=snapshot, reason=problem)
    return 0, problem


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
    row.digest = snapshot_digest(snapshot)
    row.save()
    # What each line matched before, by the platform's line id (else by what it sells):
    # a platform may list the same lines in another order.
    old = {_line_key(line.line_id, line.listing): line.sku_id for line in row.lines.all()}
    row.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=row,
            position=position,
            line_id=line.line_id[:64],
            listing=dict(line.listing),
            listing_label=label(line.listing)[:200],
            units=max(line.units, 0),
            deleted=not line.counts,
            sku_id=old.get(_line_key(line.line_id, line.listing)),
        )
        for position, line in enumerate(snapshot.lines)
    )
    return row


def _converge_plan(
    row: Order,
    targets: Mapping[str, int],
    states: dict[str, OrderSkuState],
    via: Mapping[str, set[str]] | None = None,
) -> list[tuple[OrderSkuState, list[dict[str, Any]]]]:
    """For each SKU of the order: its state as it will be, and the events that take the
    ledger there (``event_record`` arguments). ``states`` gains the SKUs first seen."""
    platform = row.store.platform_type
    plan = []
    for sku_id in sorted(set(targets) | set(states)):
        state = states.setdefault(sku_id, OrderSkuState(order=row, sku_id=sku_id))
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
        events: list[dict[str, Any]] = []
        if difference:
            if difference > 0:
                kind = EventType.ORDER_RECEIVED if state.events == 0 else EventType.ORDER_MODIFIED
            elif target == 0 and row.cancelled:
                kind = EventType.ORDER_CANCELLED
            else:
                kind = EventType.ORDER_MODIFIED
            events.append(
                {
                    "quantity": -difference,
                    "event_type": kind,
                    "token": make_token(
                        platform, row.store_id, row.order_number, sku_id, state.events, target
                    ),
                    "metadata": {
                        "units": target,
                        "was": state.taken,
                        **({"sets": sorted(via[sku_id])} if via and via.get(sku_id) else {}),
                    },
                    **common,
                }
            )
            state.taken = target
            state.events += 1
        if target > 0 and not state.confirmed_recorded and row.confirmed:
            events.append(
                {
                    "quantity": 0,
                    "event_type": EventType.ORDER_CONFIRMED,
                    "token": make_token(
                        platform, row.store_id, row.order_number, sku_id, "confirmed"
                    ),
                    **common,
                }
            )
            state.confirmed_recorded = True
        plan.append((state, events))
    return plan


def _targets(row: Order, lines: Sequence[OrderLine]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """The units the order holds of each SKU now, a set's line counted in its components
    (as frozen on the line); and, per component, the sets that took it."""
    targets: dict[str, int] = defaultdict(int)
    via: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.sku_id is None:
            continue
        units = line.units if not line.deleted and not row.cancelled else 0
        if line.components:
            for component, quantity in line.components.items():
                targets[component] += units * quantity
                via[component].add(line.sku_id)
        else:
            targets[line.sku_id] += units
    return targets, via


def _freeze_components(lines: Iterable[OrderLine]) -> None:
    """Give each line newly matched to a set its set's components (one query)."""
    fresh = [line for line in lines if line.sku_id is not None and line.components is None]
    if not fresh:
        return
    recipes = compositions(line.sku_id for line in fresh)
    for line in fresh:
        if line.sku_id in recipes:
            line.components = recipes[line.sku_id]


def order_converge(row: Order, matcher: Matcher) -> int:
    """Record the events that bring the ledger to what the order holds now.

    Runs in the caller's transaction; returns the number of events recorded."""
    lines = list(row.lines.all())
    matched = []
    for line in lines:
        if line.sku_id is None:
            sku_id = matcher(line.listing)
            if sku_id is not None:
                line.sku_id = sku_id
                matched.append(line)
    _freeze_components(matched)
    for line in matched:
        line.save(update_fields=["sku", "components"])
    states = {s.sku_id: s for s in OrderSkuState.objects.select_for_update().filter(order=row)}
    recorded = 0
    targets, via = _targets(row, lines)
    for state, events in _converge_plan(row, targets, states, via):
        for event in events:
            event_record(**event)
        recorded += len(events)
        state.save()
    return recorded


def orders_apply(
    *,
    store: Store,
    snapshots: Sequence[OrderSnapshot],
    matcher: Matcher,
    now: dt.datetime,
    adapter: object | None = None,
) -> dict[str, int]:
    """``order_apply`` for many orders in one transaction, in a bounded number of
    statements (about ten, whatever the number of orders) plus one per event; returns the
    events recorded per order number. Events are recorded in SKU order, so two batches
    never wait on each other's snapshot locks in a cycle."""
    label = adapter_class(store.platform_type).binder.label
    hook = getattr(adapter, "order_applied", None)
    wanted = {snapshot.number: snapshot for snapshot in snapshots}
    with transaction.atomic(durable=True):
        rows = {
            row.order_number: row
            for row in Order.objects.select_for_update().filter(
                store=store, order_number__in=list(wanted)
            )
        }
        created = {
            number: Order(store=store, order_number=number, first_seen_at=now)
            for number in wanted
            if number not in rows
        }
        for number, snapshot in wanted.items():
            row = rows.get(number) or created[number]
            row.store = store
            row.platform_status = snapshot.status
            row.ordered_at = snapshot.ordered_at or row.ordered_at
            row.final = snapshot.final
            row.cancelled = snapshot.cancelled
            row.confirmed = snapshot.confirmed
            row.last_seen_at = now
            row.digest = snapshot_digest(snapshot)
        fields = ["platform_status", "ordered_at", "final", "cancelled", "confirmed"]
        Order.objects.bulk_update(list(rows.values()), [*fields, "last_seen_at", "digest"])
        Order.objects.bulk_create(list(created.values()))
        rows.update(created)
        ids = [row.pk for row in rows.values()]
        # What each line matched before, by the platform's line id (else what it sells).
        before = {
            (order_id, _line_key(line_id, listing)): (sku_id, components)
            for order_id, line_id, listing, sku_id, components in OrderLine.objects.filter(
                order_id__in=ids
            ).values_list("order_id", "line_id", "listing", "sku_id", "components")
        }
        OrderLine.objects.filter(order_id__in=ids).delete()
        lines: dict[str, list[OrderLine]] = {}
        for number, snapshot in wanted.items():
            row = rows[number]
            lines[number] = []
            for position, line in enumerate(snapshot.lines):
                sku_id, components = before.get(
                    (row.pk, _line_key(line.line_id, line.listing)), (None, None)
                )
                lines[number].append(
                    OrderLine(
                        order=row,
                        position=position,
                        line_id=line.line_id[:64],
                        listing=dict(line.listing),
                        listing_label=label(line.listing)[:200],
                        units=max(line.units, 0),
                        deleted=not line.counts,
                        sku_id=sku_id or matcher(line.listing),
                        components=components if sku_id else None,
                    )
                )
        _freeze_components(line for group in lines.values() for line in group)
        OrderLine.objects.bulk_create([line for group in lines.values() for line in group])
        if hook is not None:
            for number, snapshot in wanted.items():
                hook(rows[number], snapshot)
        states: dict[int, dict[str, OrderSkuState]] = defaultdict(dict)
        for state in OrderSkuState.objects.select_for_update().filter(order_id__in=ids):
            states[state.order_id][state.sku_id] = state
        to_record: list[tuple[str, str, int, dict[str, Any]]] = []
        changed: list[OrderSkuState] = []
        for number, row in rows.items():
            targets, via = _targets(row, lines[number])
            for state, events in _converge_plan(row, targets, states[row.pk], via):
                if events:
                    changed.append(state)
                for position, event in enumerate(events):
                    to_record.append((event["sku_id"], number, position, event))
        recorded: dict[str, int] = dict.fromkeys(wanted, 0)
        for _sku, number, _position, event in sorted(to_record, key=lambda item: item[:3]):
            event_record(**event)
            recorded[number] += 1
        OrderSkuState.objects.bulk_create([state for state in changed if state.pk is None])
        OrderSkuState.objects.bulk_update(
            [state for state in changed if state.pk is not None],
            ["taken", "events", "confirmed_recorded"],
        )
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


def _applied(store: Store) -> Callable[[Sequence[str]], dict[str, AppliedOrder]]:
    def applied(numbers: Sequence[str]) -> dict[str, AppliedOrder]:
        found: dict[str, AppliedOrder] = {}
        for offset in range(0, len(numbers), 500):
            chunk = numbers[offset : offset + 500]
            orders = dict(
                Order.objects.filter(store=store, order_number__in=chunk).values_list(
                    "order_number", "platform_status"
                )
            )
            lines: dict[str, list[tuple[dict[str, str], int]]] = {n: [] for n in orders}
            for number, listing, units in (
                OrderLine.objects.filter(
                    order__store=store, order__order_number__in=chunk, deleted=False
                )
                .order_by("order_id", "position")
                .values_list("order__order_number", "listing", "units")
            ):
                lines[number].append((listing, units))
            for number, status in orders.items():
                found[number] = AppliedOrder(status=status, lines=tuple(lines[number]))
        return found

    return applied


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
        log.say(MSG_STORE_INACTIVE)
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_STORE_INACTIVE))
    state, _created = PollState.objects.get_or_create(store=store)
    # Orders placed before the first poll are already in the stock we started from. The
    # origin is the first ATTEMPT, kept at once: a store whose first polls fail (no
    # credentials yet, the platform down) still takes every order placed since.
    if state.origin is None:
        state.origin = since or now
        state.save(update_fields=["origin"])
    origin = state.origin
    adapter = adapter_for(store)
    if not hasattr(adapter, "orders_changed"):
        return log.finish(SyncRun.Status.SKIPPED, str(MSG_NO_ORDERS))
    lookback = dt.timedelta(days=settings.SYNC_POLL_LOOKBACK_DAYS)
    overlap = dt.timedelta(minutes=settings.SYNC_POLL_OVERLAP_MINUTES)
    if since is not None:
        start = since
    elif sweep:
        start = now - lookback
    else:
        start = (state.cursor - overlap) if state.cursor else origin
    start = max(start, origin)

    def found(count: int, to_read: int) -> None:
        log.add("found", count)
        log.say(
            _("Searched %(start)s to %(end)s: %(found)d found, %(to_read)d to read."),
            start=start,
            end=now,
            found=count,
            to_read=to_read,
        )

    open_rows = list(
        Order.objects.filter(store=store, final=False).values_list(
            "order_number", "platform_status", "ordered_at", "last_seen_at"
        )
    )
    # Orders set aside are read again until they apply or are dismissed.
    quarantined = list(
        QuarantinedOrder.objects.filter(
            store=store, status=QuarantinedOrder.Status.OPEN
        ).values_list("order_number", flat=True)
    )
    placed = [ordered for _, _, ordered, _ in open_rows if ordered is not None]
    window = PollWindow(
        start=start,
        end=now,
        sweep=sweep,
        open_orders=tuple(dict.fromkeys([*(row[0] for row in open_rows), *quarantined])),
        known_final=_known_final(store),
        on_found=found,
        open_since=min(placed) if placed else None,
        applied=_applied(store),
        open_status={number: status for number, status, _, _ in open_rows},
        due=tuple(
            dict.fromkeys(
                [
                    *(
                        number
                        for number, _, ordered, seen in open_rows
                        if reread_due(ordered, seen, now)
                    ),
                    *quarantined,
                ]
            )
        ),
    )
    matcher = adapter.binder.matcher(store)
    if start >= now and not window.open_orders:
        # A first poll searches an empty window (earlier orders are in the starting stock)
        # and some platforms' adapters then make no call: ask the platform anyway, so an
        # unreachable store or refused credentials fail the run instead of "succeeded".
        adapter.auth_test()
    batch: list[OrderSnapshot] = []
    for snapshot in adapter.orders_changed(window):
        batch.append(snapshot)
        if len(batch) >= APPLY_BATCH:
            _apply_batch(store, batch, matcher, now, adapter, log)
            batch = []
            if log.cancelled():
                # The cursor stays: the next poll reads this window again (nothing is lost).
                log.say(_("Stopped by staff; the next poll reads the rest."))
                return log.finish(SyncRun.Status.CANCELLED)
    _apply_batch(store, batch, matcher, now, adapter, log)
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
    return log.finish(SyncRun.Status.SUCCEEDED)


def _apply_batch(
    store: Store,
    batch: Sequence[OrderSnapshot],
    matcher: Matcher,
    now: dt.datetime,
    adapter: Any,
    log: RunLog,
) -> None:
    """Apply the orders of a batch that changed since they were last applied; the others
    (one query tells which) are only marked read: no lock, no line, no event."""
    numbers = [snapshot.number for snapshot in batch if not snapshot.missing]
    digests = (
        dict(
            Order.objects.filter(store=store, order_number__in=numbers).values_list(
                "order_number", "digest"
            )
        )
        if numbers
        else {}
    )
    unchanged: list[str] = []
    changed: dict[str, OrderSnapshot] = {}
    for snapshot in batch:
        if snapshot.missing:
            log.say(_("Order %(order)s: not found on the platform."), order=snapshot.number)
            log.add("not_found")
        elif digests.get(snapshot.number) == snapshot_digest(snapshot):
            unchanged.append(snapshot.number)
        elif (problem := snapshot_problem(snapshot)) is not None:
            quarantine_record(store=store, snapshot=snapshot, reason=problem)
            log.add("quarantined")
            log.say(
                _("Order %(order)s set aside: %(problem)s"), order=snapshot.number, problem=problem
            )
        else:
            changed[snapshot.number] = snapshot
    applied: dict[str, int] | None = None
    if len(changed) > 1:
        try:
            applied = orders_apply(
                store=store,
                snapshots=list(changed.values()),
                matcher=matcher,
                now=now,
                adapter=adapter,
            )
        except (LeaseLost, PlatformError):
            raise
        except Exception:  # one of them: apply each alone and set aside the one that fails
            logger.info("batch of %d orders of %s applied one by one", len(changed), store.store_id)
    if applied is not None:
        QuarantinedOrder.objects.filter(
            store=store, order_number__in=list(applied), status=QuarantinedOrder.Status.OPEN
        ).update(status=QuarantinedOrder.Status.RESOLVED, closed_at=now)
        log.add("orders", len(applied))
        log.add("events", sum(applied.values()))
    else:
        for snapshot in changed.values():
            events, problem = _apply_or_quarantine(store, snapshot, matcher, now, adapter)
            if problem is not None:
                log.add("quarantined")
                log.say(
                    _("Order %(order)s set aside: %(problem)s"),
                    order=snapshot.number,
                    problem=problem,
                )
                continue
            log.add("orders")
            log.add("events", events)
    if unchanged:
        Order.objects.filter(store=store, order_number__in=unchanged).update(last_seen_at=now)
        # Set aside after it applied, and back to what applied: nothing is left to do.
        QuarantinedOrder.objects.filter(
            store=store, order_number__in=unchanged, status=QuarantinedOrder.Status.OPEN
        ).update(status=QuarantinedOrder.Status.RESOLVED, closed_at=now)
        log.add("unchanged", len(unchanged))


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
