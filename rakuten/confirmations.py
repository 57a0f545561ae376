"""RMS's order confirmation (confirmOrder): new orders of stores that ask for it are
confirmed after their events are recorded; failures back off and end ``failed``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stores.models import Store
from sync.backoff import retry_delay
from sync.errors import PlatformError
from sync.models import SyncRun
from sync.runs import RunLog, run_job

from .client import RmsClient
from .models import RakutenOrderConfirmation

Status = RakutenOrderConfirmation.Status


def orders_confirm(*, store_id: str, now: dt.datetime | None = None) -> SyncRun:
    """Confirm the store's pending orders whose time has come; retry with backoff."""
    store = Store.objects.get(pk=store_id)
    return run_job(
        store=store,
        kind=SyncRun.Kind.CONFIRM,
        work=lambda log: _confirm(store, log, now or timezone.now()),
    )


def _confirm(store: Store, log: RunLog, now: dt.datetime) -> SyncRun:
    due = RakutenOrderConfirmation.objects.filter(
        store=store, status=Status.PENDING, next_at__lte=now
    )
    numbers = dict(due.values_list("order__order_number", "order_id"))
    if not numbers:
        return log.finish(SyncRun.Status.SUCCEEDED)
    try:
        result = RmsClient.for_store(store).confirm_orders(list(numbers))
    except PlatformError as exc:
        _confirm_failed(numbers, {n: str(exc) for n in numbers}, now)
        log.add("failed", len(numbers))
        log.say(_("confirmOrder failed: %(error)s"), error=exc)
        return log.finish(SyncRun.Status.FAILED, str(exc))
    RakutenOrderConfirmation.objects.filter(
        order_id__in=[numbers[n] for n in result.confirmed if n in numbers]
    ).update(status=Status.DONE, error="")
    _confirm_failed(
        {n: numbers[n] for n in result.failed if n in numbers}, dict(result.failed), now
    )
    log.add("confirmed", len(result.confirmed))
    log.add("failed", len(result.failed))
    for number, message in result.failed.items():
        log.say(_("Order %(order)s not confirmed: %(error)s"), order=number, error=message)
    status = SyncRun.Status.PARTIAL if result.failed else SyncRun.Status.SUCCEEDED
    return log.finish(status)


def _confirm_failed(numbers: dict[str, int], errors: dict[str, str], now: dt.datetime) -> None:
    limit = settings.RAKUTEN_CONFIRM_MAX_ATTEMPTS
    by_order = {order_id: number for number, order_id in numbers.items()}
    for row in RakutenOrderConfirmation.objects.filter(order_id__in=list(by_order)):
        row.attempts += 1
        row.error = errors.get(by_order[row.order_id], "")[:2000]
        if row.attempts >= limit:
            row.status = Status.FAILED
        else:
            row.next_at = now + retry_delay(row.attempts)
        row.save(update_fields=["attempts", "error", "status", "next_at"])


def confirmations_retry(
    *, store_id: str | None = None, order_ids: Iterable[int] | None = None
) -> int:
    """Staff's retry of failed order confirmations: pending again, due now."""
    rows = RakutenOrderConfirmation.objects.filter(status=Status.FAILED)
    if store_id:
        rows = rows.filter(store_id=store_id)
    if order_ids is not None:
        rows = rows.filter(order_id__in=list(order_ids))
    return rows.update(status=Status.PENDING, attempts=0, next_at=timezone.now())


def stores_with_due_confirmations(now: dt.datetime | None = None) -> list[str]:
    return list(
        RakutenOrderConfirmation.objects.filter(
            status=Status.PENDING, next_at__lte=now or timezone.now()
        )
        .values_list("store_id", flat=True)
        .distinct()
        .order_by("store_id")
    )
