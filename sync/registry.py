"""Platform type -> adapter class, from ``settings.INVENTORY_PLATFORMS``.

The engine reaches a platform only through here, so it imports no platform app.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from stores.crypto import CredentialDecryptError

from .errors import PlatformNotConfigured

if TYPE_CHECKING:
    from stores.models import Store

    from .adapters import AccountState, Adapter, Binder, StoreAction

MSG_NO_ADAPTER = _("No adapter is configured for the platform “%(platform)s”.")
MSG_UNREADABLE = _(
    "The credentials of store %(store)s cannot be decrypted with FIELD_ENCRYPTION_KEYS: "
    "put the key they were saved with back, or enter them again."
)


@cache
def _load(path: str) -> type[Adapter]:
    return import_string(path)


def adapter_class(platform: str) -> type[Adapter]:
    path = settings.INVENTORY_PLATFORMS.get(platform)
    if not path:
        raise PlatformNotConfigured(str(MSG_NO_ADAPTER % {"platform": platform}))
    return _load(path)


def adapter_for(store: Store) -> Adapter:
    """The adapter that talks to this store (its client built from its credentials).
    Credentials the keys cannot open are a platform error like any other: the work
    backs off and ends failed, listed for staff, instead of failing every minute."""
    try:
        return adapter_class(store.platform_type).for_store(store)
    except CredentialDecryptError as exc:
        raise PlatformNotConfigured(str(MSG_UNREADABLE % {"store": store.store_id})) from exc


def binder_for(platform: str) -> Binder:
    return adapter_class(platform).binder


def store_actions(store: Store) -> list[StoreAction]:
    """The platform's own jobs the store page offers (eBay: read inventory, read offers)."""
    actions = getattr(adapter_class(store.platform_type), "actions", None)
    return list(actions(store)) if actions is not None else []


def store_account(store: Store) -> AccountState | None:
    """The platform account the store is connected to in a browser (eBay), or None for a
    platform whose credentials are enough."""
    account = getattr(adapter_class(store.platform_type), "account", None)
    return account(store) if account is not None else None


def store_accounts(stores: Iterable[Store]) -> dict[str, AccountState]:
    """``store_account`` of many stores, by store id (stores of a platform without accounts
    are left out): one call, so one query, per platform that has them."""
    by_platform: dict[str, list[Store]] = defaultdict(list)
    for store in stores:
        by_platform[store.platform_type].append(store)
    found: dict[str, AccountState] = {}
    for platform, group in by_platform.items():
        accounts = getattr(adapter_class(platform), "accounts", None)
        if accounts is not None:
            found.update(accounts(group))
    return found


MSG_API_URL = _(
    "The API address must be https://%(hosts)s (or a sandbox host listed in "
    "INVENTORY_SANDBOX_HOSTS), not “%(url)s”: the store's credentials are sent there."
)


def api_url_problem(platform: str, url: str) -> str | None:
    """Why the store's credentials must not be sent to ``url``, or None. Only the
    platform's own HTTPS hosts, and the sandbox hosts the settings list, are allowed."""
    parsed = urlsplit(url)
    host = (parsed.hostname or "").lower()
    if host and host in {h.lower() for h in settings.INVENTORY_SANDBOX_HOSTS}:
        return None
    hosts = adapter_class(platform).api_hosts
    if parsed.scheme == "https" and host in hosts and not parsed.username:
        return None
    return str(MSG_API_URL % {"hosts": " or https://".join(hosts), "url": url})


def platforms() -> dict[str, type[Adapter]]:
    return {name: adapter_class(name) for name in settings.INVENTORY_PLATFORMS}
