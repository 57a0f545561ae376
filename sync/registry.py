"""Platform type -> adapter class, from ``settings.INVENTORY_PLATFORMS``.

The engine reaches a platform only through here, so it imports no platform app.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .errors import PlatformNotConfigured

if TYPE_CHECKING:
    from stores.models import Store

    from .adapters import Adapter, Binder

MSG_NO_ADAPTER = _("No adapter is configured for the platform “%(platform)s”.")


@cache
def _load(path: str) -> type[Adapter]:
    return import_string(path)


def adapter_class(platform: str) -> type[Adapter]:
    path = settings.INVENTORY_PLATFORMS.get(platform)
    if not path:
        raise PlatformNotConfigured(str(MSG_NO_ADAPTER % {"platform": platform}))
    return _load(path)


def adapter_for(store: Store) -> Adapter:
    """The adapter that talks to this store (its client built from its credentials)."""
    return adapter_class(store.platform_type).for_store(store)


def binder_for(platform: str) -> Binder:
    return adapter_class(platform).binder


def platforms() -> dict[str, type[Adapter]]:
    return {name: adapter_class(name) for name in settings.INVENTORY_PLATFORMS}
