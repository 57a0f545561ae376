"""What a store is told of a SKU's stock (the rule every page, report and push shares)."""

from __future__ import annotations


def store_quantity(available: int, safety: int, maximum: int | None = None) -> int:
    """Available less the store's safety stock, never below 0, and at most what the
    store's platform accepts (``maximum``; None when no platform is in question)."""
    shown = max(0, available - safety)
    return shown if maximum is None else min(maximum, shown)
