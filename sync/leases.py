"""Leases: one holder per job key ("poll:<store>") across threads, processes and hosts.

A lease is short (``SYNC_LEASE_SECONDS``, 60 s by default) and its holder renews it while it
works (``sync.runs.LeaseKeeper``, a thread of the worker). A holder that dies
(kill -9, a lost machine) stops renewing, and the next run takes the store over once the
lease has run out: no store stays blocked for long, whatever killed its worker. It works
the same on SQLite and PostgreSQL (a row and conditional UPDATEs, no session lock)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobLease


def lease_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def lease_acquire(key: str, ttl: dt.timedelta | None = None) -> str | None:
    """Take the lease if it is free or expired; return the holder token, or None."""
    ttl = ttl or lease_ttl()
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        JobLease.objects.get_or_create(key=key)
        # One UPDATE decides: the database re-checks the condition under the row lock.
        taken = (
            JobLease.objects.filter(key=key)
            .filter(Q(holder="") | Q(expires_at__lte=now))
            .update(holder=token, acquired_at=now, expires_at=now + ttl)
        )
    return token if taken else None


def lease_extend(key: str, token: str, ttl: dt.timedelta | None = None) -> bool:
    """Renew the lease; False when this holder no longer has it (it ran out and another
    holder took it): the caller must stop."""
    ttl = ttl or lease_ttl()
    return bool(
        JobLease.objects.filter(key=key, holder=token).update(expires_at=timezone.now() + ttl)
    )


def lease_release(key: str, token: str) -> None:
    JobLease.objects.filter(key=key, holder=token).update(holder="", expires_at=timezone.now())


@contextmanager
def job_lease(key: str, ttl: dt.timedelta | None = None) -> Iterator[str | None]:
    """`with job_lease("poll:s1") as token:` - token is None when another holder has it."""
    token = lease_acquire(key, ttl)
    try:
        yield token
    finally:
        if token:
            lease_release(key, token)
