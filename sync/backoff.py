"""When failed work is tried again: our own rows carry the attempts (LIBRARIES.md)."""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings


def retry_delay(attempts: int, *, retry_after: float | None = None) -> dt.timedelta:
    """Backoff after the n-th failed attempt: base·2^(n-1), capped, plus up to 10% jitter;
    never sooner than the platform's Retry-After."""
    base = settings.SYNC_RETRY_BASE_SECONDS
    cap = settings.SYNC_RETRY_CAP_SECONDS
    seconds = min(cap, base * 2 ** max(attempts - 1, 0))
    seconds += seconds * 0.1 * random.random()  # noqa: S311 - jitter, not security
    return dt.timedelta(seconds=max(seconds, retry_after or 0))
