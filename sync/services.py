"""The engine's writes that are neither polls nor pushes: the auth test of a store."""

from __future__ import annotations

from django.utils import timezone

from stores.models import Store

from .errors import PlatformError
from .registry import adapter_for


def store_auth_test(*, store_id: str) -> tuple[bool, str]:
    """Ask the store's platform whether it accepts the credentials (the seed's
    auth-test); keep the answer (and, where the platform says, when they expire)."""
    store = Store.objects.get(pk=store_id)
    now = timezone.now()
    try:
        result = adapter_for(store).auth_test()
    except PlatformError as exc:
        message = str(exc)
        Store.objects.filter(pk=store_id).update(
            last_auth_test_at=now, last_auth_error=message[:2000]
        )
        return False, message
    changes = {"last_auth_test_at": now, "last_auth_error": ""}
    if result.expires_at is not None:
        changes["license_expires_at"] = result.expires_at
    Store.objects.filter(pk=store_id).update(**changes)
    return True, result.message
