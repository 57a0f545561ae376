"""The dashboard's small charts, drawn server-side as SVG (no script, no library): an hour
per bar over the last 24 hours, each bar with its tooltip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone

HOURS = 24
WIDTH = 240
HEIGHT = 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    start: dt.datetime

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(hours=1)


@dataclass(frozen=True)
class HourlyChart:
    """Bars of an hourly series, oldest on the left; ``total`` and ``peak`` for the caption."""

    bars: list[Bar]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return self.total == 0


def hours_back(now: dt.datetime | None = None, hours: int = HOURS) -> list[dt.datetime]:
    """The start of each of the last ``hours`` hours (local time), oldest first; the last
    is the hour running now."""
    current = timezone.localtime(now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return [current - dt.timedelta(hours=hours - 1 - index) for index in range(hours)]


def hourly_chart(
    counts: Mapping[dt.datetime, int],
    starts: Sequence[dt.datetime],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> HourlyChart:
    """``counts`` by the start of their hour (any time zone); hours without one are 0."""
    by_hour = {
        timezone.localtime(hour).replace(minute=0, second=0, microsecond=0): value
        for hour, value in counts.items()
    }
    values = [int(by_hour.get(start, 0) or 0) for start in starts]
    peak = max(values, default=0)
    slot = width / max(len(starts), 1)
    bars = []
    for index, (start, value) in enumerate(zip(starts, values, strict=True)):
        # A bar of at least 1 px for any hour with something in it: a lone 1 beside a
        # 500 stays visible.
        tall = 0.0 if not value else max(1.0, value * height / peak)
        bars.append(
            Bar(
                x=round(index * slot + 1, 1),
                y=round(height - tall, 1),
                width=round(max(slot - 2, 1), 1),
                height=round(tall, 1),
                value=value,
                start=start,
            )
        )
    return HourlyChart(bars=bars, total=sum(values), peak=peak, width=width, height=height)
