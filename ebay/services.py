"""Connecting a store to the seller's eBay account (OAuth consent) and keeping its tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record
from stores.crypto import encrypt_credentials
from stores.models import Store

from .client import EbayClient
from .models import EbayConnection
from .types import TokenGrant

# How long a consent may take between our redirect and eBay's callback.
STATE_SECONDS = 600
SESSION_KEY = "ebay_consent"


def consent_start(*, store: Store, session: dict) -> str:
    """The address of eBay's consent page for this store's app; the state that the callback
    must bring back is kept in the user's session (one pending consent at a time)."""
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {
        "state": state,
        "store_id": store.store_id,
        "at": timezone.now().timestamp(),
    }
    return EbayClient.for_store(store).authorize_url(state)


def consent_pending(*, session: dict, state: str) -> str | None:
    """The store id of the consent this ``state`` belongs to (None: unknown, used or too
    old). The pending consent is used up either way."""
    pending = session.pop(SESSION_KEY, None)
    if not isinstance(pending, dict) or not state:
        return None
    if not secrets.compare_digest(str(pending.get("state", "")), state):
        return None
    if timezone.now().timestamp() - float(pending.get("at", 0)) > STATE_SECONDS:
        return None
    return str(pending.get("store_id") or "") or None


def connection_save(*, store: Store, grant: TokenGrant, actor: Actor, scopes: list[str]) -> None:
    """Keep the seller's tokens (encrypted) and say who connected the store; audited without
    any token."""
    now = timezone.now()
    with transaction.atomic():
        EbayConnection.objects.update_or_create(
            store=store,
            defaults={
                "tokens_encrypted": encrypt_credentials(
                    {"refresh": grant.refresh_token, "access": grant.access_token}
                ),
                "access_expires_at": now + dt.timedelta(seconds=grant.expires_in),
                "refresh_expires_at": (
                    now + dt.timedelta(seconds=grant.refresh_expires_in)
                    if grant.refresh_expires_in
                    else None
                ),
                "scopes": scopes,
                "connected_at": now,
                "connected_by": actor.username[:150],
                "reconnect": False,
                "last_error": "",
            },
        )
        audit_record(
            actor=actor,
            action=AuditAction.STORE_CREDENTIALS,
            details={"store_id": store.store_id, "ebay": "account connected"},
        )


def connect_code(*, store: Store, code: str, actor: Actor) -> None:
    """The callback's authorization code -> the seller's tokens, kept for the store."""
    client = EbayClient.for_store(store)
    grant = client.exchange_code(code)
    connection_save(store=store, grant=grant, actor=actor, scopes=list(client.scopes))
