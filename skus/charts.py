"""The SKU page's stock chart, drawn server-side as SVG: a step chart over time (the stock
holds from one event to the next, and until now after the last), a point per event with
its tooltip, and gridlines. No script, no library."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

from django.utils import timezone

WIDTH = 600
HEIGHT = 160
# Time labels under the chart (the first at the left edge, the last at "now").
TIME_TICKS = 4
VALUE_TICKS = 4


@dataclass(frozen=True)
class ChartPoint:
    """An event on the chart: where, and what its tooltip says."""

    x: float
    y: float
    balance: int
    quantity: int
    event_type: str
    order_id: str
    store_id: str
    at: dt.datetime
    oversold: bool


@dataclass(frozen=True)
class GridLine:
    position: float
    label: object  # an int (stock) or a datetime (time)


@dataclass(frozen=True)
class StockChart:
    """The step line (``points`` of an SVG polyline), the events on it, and the axes."""

    points: str
    dots: list[ChartPoint]
    value_grid: list[GridLine]
    time_grid: list[GridLine]
    low: int
    high: int
    zero_y: float
    first: dt.datetime
    last: dt.datetime
    end: dt.datetime
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def single(self) -> bool:
        """One event only: the chart is a level line from it to now."""
        return len(self.dots) == 1

    @property
    def current(self) -> int:
        return self.dots[-1].balance

    @property
    def time_format(self) -> str:
        """The time labels' form, as fine as the span needs (a date filter format)."""
        span = self.end - self.first
        if span < dt.timedelta(hours=1):
            return "H:i:s"
        if span < dt.timedelta(days=1):
            return "H:i"
        if span < dt.timedelta(days=365):
            return "m-d H:i"
        return "Y-m-d"


def _nice_step(span: int, ticks: int) -> int:
    """A round step (1, 2, 5 × 10ⁿ) that cuts ``span`` into about ``ticks`` parts."""
    raw = max(span / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


def stock_chart(
    events: list,
    width: int = WIDTH,
    height: int = HEIGHT,
    now: dt.datetime | None = None,
) -> StockChart | None:
    """Oldest to newest; the y axis always holds 0, so an oversell shows below the line.
    ``events`` are InventoryEvents (``created_at``, ``balance_after``, ``quantity``, …)."""
    if not events:
        return None
    values = [event.balance_after for event in events]
    step = _nice_step(max(*values, 1) - min(*values, 0), VALUE_TICKS)
    low = math.floor(min(*values, 0) / step) * step
    high = math.ceil(max(*values, 1) / step) * step
    first = events[0].created_at
    last = events[-1].created_at
    end = max(now or timezone.now(), last)
    seconds = (end - first).total_seconds()

    def x(at: dt.datetime) -> float:
        if seconds <= 0:
            return 0.0
        return round((at - first).total_seconds() * width / seconds, 1)

    def y(value: int) -> float:
        return round(height - (value - low) * height / (high - low), 1)

    dots = [
        ChartPoint(
            x=x(event.created_at),
            y=y(event.balance_after),
            balance=event.balance_after,
            quantity=event.quantity,
            event_type=str(event.get_event_type_display()),
            order_id=event.order_id or "",
            store_id=event.store_id or "",
            at=event.created_at,
            oversold=bool(event.oversold),
        )
        for event in events
    ]
    # The stock holds until the next event: across, then up or down.
    corners = [(dots[0].x, dots[0].y)]
    for before, dot in itertools.pairwise(dots):
        corners += [(dot.x, before.y), (dot.x, dot.y)]
    corners.append((float(width), dots[-1].y))
    return StockChart(
        points=" ".join(f"{px:.1f},{py:.1f}" for px, py in corners),
        dots=dots,
        value_grid=[GridLine(y(value), value) for value in range(low, high + 1, step)],
        # One event: its time only (the line runs on to now, which the caption says).
        time_grid=[
            GridLine(
                round(width * index / (TIME_TICKS - 1), 1),
                first + (end - first) * index / (TIME_TICKS - 1),
            )
            for index in range(TIME_TICKS if len(events) > 1 else 1)
        ],
        low=low,
        high=high,
        zero_y=y(0),
        first=first,
        last=last,
        end=end,
        width=width,
        height=height,
    )
