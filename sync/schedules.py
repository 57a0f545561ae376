"""The engine's schedules, declared once and upserted into django-q2 on migrate."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from django.utils import timezone


class ScheduleSpec(NamedTuple):
    name: str
    func: str
    schedule_type: str  # django_q.models.Schedule.MINUTES / DAILY
    minutes: int | None = None
    # For daily jobs: the local time of day they run.
    at: dt.time | None = None


SCHEDULES = [
    ScheduleSpec("sync: poll stores that are due", "sync.tasks.poll_due", "I", 1),
    ScheduleSpec("sync: push pending stock", "sync.tasks.push_due", "I", 1),
    ScheduleSpec(
        "sync: platform follow-ups (RMS order confirmation)", "sync.tasks.followups_due", "I", 1
    ),
    ScheduleSpec("sync: nightly order sweep", "sync.tasks.sweep_all", "D", at=dt.time(2, 30)),
    ScheduleSpec("sync: nightly SKU sync", "sync.tasks.sku_sync_all", "D", at=dt.time(3, 0)),
    ScheduleSpec("sync: nightly reconcile", "sync.tasks.reconcile_all", "D", at=dt.time(4, 0)),
    # The reconciliation page shows the newest stored check instead of summing the ledger.
    ScheduleSpec("ledger: nightly check", "events.tasks.ledger_check", "D", at=dt.time(4, 30)),
    # SKUs at or below their low-stock threshold, mailed to staff each morning.
    ScheduleSpec("skus: daily low-stock mail", "skus.tasks.low_stock_mail", "D", at=dt.time(8, 0)),
    # Uploaded files' text past IMPORTS_ORIGINAL_RETENTION_DAYS is emptied.
    ScheduleSpec(
        "imports: empty uploads past retention",
        "imports.tasks.uploads_purge_task",
        "D",
        at=dt.time(4, 45),
    ),
]
# The names these schedules had while the engine lived in rakuten/: renamed on migrate.
RENAMED = {
    "rakuten: poll stores that are due": "sync: poll stores that are due",
    "rakuten: push pending stock": "sync: push pending stock",
    "rakuten: confirm orders": "sync: platform follow-ups (RMS order confirmation)",
    "rakuten: nightly order sweep": "sync: nightly order sweep",
    "rakuten: nightly SKU sync": "sync: nightly SKU sync",
    "rakuten: nightly reconcile": "sync: nightly reconcile",
}


def _first_run(spec: ScheduleSpec) -> dt.datetime:
    now = timezone.localtime()
    if spec.at is None:
        return now
    first = now.replace(hour=spec.at.hour, minute=spec.at.minute, second=0, microsecond=0)
    return first if first > now else first + dt.timedelta(days=1)


def schedules_ensure(**_kwargs: Any) -> int:
    """Create or update every schedule by name; running it again creates nothing new."""
    from django_q.models import Schedule

    # Schedules made before the engine moved: same rows, new names and task paths (their
    # next run and history are kept), so nothing runs twice or under an old path.
    for old, new in RENAMED.items():
        if not Schedule.objects.filter(name=new).exists():
            Schedule.objects.filter(name=old).update(name=new)
        else:
            Schedule.objects.filter(name=old).delete()
    for spec in SCHEDULES:
        Schedule.objects.update_or_create(
            name=spec.name,
            defaults={
                "func": spec.func,
                "schedule_type": spec.schedule_type,
                "minutes": spec.minutes,
                "repeats": -1,
            },
            create_defaults={
                "func": spec.func,
                "schedule_type": spec.schedule_type,
                "minutes": spec.minutes,
                "repeats": -1,
                "next_run": _first_run(spec),
            },
        )
    return len(SCHEDULES)
