"""The SKU page's stock chart, drawn server-side as SVG."""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class StockChart:
    """The stock after each event as an SVG polyline, with the figures for its axes."""

    points: str
    low: int
    high: int
    zero_y: float
    first: dt.datetime
    last: dt.datetime


def stock_chart(events: list, width: int = 600, height: int = 160) -> StockChart | None:
    """Oldest to newest; the y axis always holds 0, so an oversell shows below the line."""
    if not events:
        return None
    values = [event.balance_after for event in events]
    low, high = min(*values, 0), max(*values, 1)
    span = high - low
    step = width / max(len(values) - 1, 1)

    def y(value: int) -> float:
        return height - (value - low) * height / span

    return StockChart(
        points=" ".join(f"{i * step:.1f},{y(value):.1f}" for i, value in enumerate(values)),
        low=low,
        high=high,
        zero_y=round(y(0), 1),
        first=events[0].created_at,
        last=events[-1].created_at,
    )
