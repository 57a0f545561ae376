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
    ScheduleSpec("rakuten: poll stores that are due", "rakuten.tasks.poll_due", "I", 1),
    ScheduleSpec("rakuten: push pending stock", "rakuten.tasks.push_due", "I", 1),
    ScheduleSpec("rakuten: confirm orders", "rakuten.tasks.confirm_due", "I", 1),
    ScheduleSpec("rakuten: nightly order sweep", "rakuten.tasks.sweep_all", "D", at=dt.time(2, 30)),
    ScheduleSpec("rakuten: nightly SKU sync", "rakuten.tasks.sku_sync_all", "D", at=dt.time(3, 0)),
    ScheduleSpec(
        "rakuten: nightly reconcile", "rakuten.tasks.reconcile_all", "D", at=dt.time(4, 0)
    ),
]


def _first_run(spec: ScheduleSpec) -> dt.datetime:
    now = timezone.localtime()
    if spec.at is None:
        return now
    first = now.replace(hour=spec.at.hour, minute=spec.at.minute, second=0, microsecond=0)
    return first if first > now else first + dt.timedelta(days=1)


def schedules_ensure(**_kwargs: Any) -> int:
    """Create or update every schedule by name; running it again creates nothing new."""
    from django_q.models import Schedule

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
