"""futureshop's gate: client credentials for a token, then Bearer token plus X-SHOP-KEY.

The token lifetime is not published (FUTURESHOP.md): `token_lifetime` seconds, 3600 unless
set. An expired or unknown token is a 401, so a client gets a new token once and retries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from typing import Any

from .errors import oauth_error, token_error
from .model import Shop, Token


class AuthApi:
    """Part of `Sandbox`: the token endpoint, and who an API call comes from."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shops: dict[str, Shop]
    shop: Callable[[str], Shop]
    tokens: dict[str, Token]
    token_lifetime: int

    def client_authenticate(self, authorization: str | None, shop_key: str | None) -> Shop:
        """The shop of `Basic base64(client_id:client_secret)` and X-SHOP-KEY, or a 401."""
        if not authorization or not authorization.startswith("Basic "):
            raise oauth_error(401, "invalid_client", "Basic client authentication is required")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise oauth_error(401, "invalid_client", "Malformed Basic credentials") from None
        client_id, _, secret = decoded.partition(":")
        with self.lock:
            shop = self.shops.get(shop_key or "")
        if (
            shop is None
            or not secrets.compare_digest(shop.client_id, client_id)
            or not secrets.compare_digest(shop.client_secret, secret)
        ):
            raise oauth_error(401, "invalid_client", "Client authentication failed")
        return shop

    def token_issue(self, shop: Shop, body: Any) -> dict[str, Any]:
        """POST /oauth/token with `grant_type=client_credentials` (a form body)."""
        grant = body.get("grant_type") if isinstance(body, dict) else None
        if grant != "client_credentials":
            raise oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        with self.lock:
            now = self.clock()
            # Forget tokens expired for a day: they would answer "unknown" instead of "expired".
            for key in [k for k, t in self.tokens.items() if t.expires_at < now - dt.timedelta(1)]:
                del self.tokens[key]
            token = Token(
                secrets.token_urlsafe(32),
                shop.shop_key,
                now + dt.timedelta(seconds=self.token_lifetime),
            )
            self.tokens[token.token] = token
            return {
                "access_token": token.token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
            }

    def token_authenticate(self, authorization: str | None, shop_key: str | None) -> Shop:
        """The shop of an API call: a live Bearer token issued to the shop X-SHOP-KEY names."""
        if not authorization or not authorization.startswith("Bearer "):
            raise token_error("A Bearer access token is required")
        with self.lock:
            token = self.tokens.get(authorization[7:].strip())
            if token is None:
                raise token_error("The access token is invalid")
            if token.expires_at <= self.clock():
                raise token_error("The access token expired")
            if not shop_key or shop_key != token.shop_key or shop_key not in self.shops:
                # sandbox: whether a mismatch is a 401 or a 403 is undocumented.
                raise token_error("X-SHOP-KEY does not match the access token")
            return self.shops[shop_key]

    def tokens_expire(self, shop_key: str | None = None) -> int:
        """Expire every token (of one shop): its next call gets a 401. How many expired."""
        with self.lock:
            if shop_key is not None:
                self.shop(shop_key)
            now = self.clock()
            expired = 0
            for token in self.tokens.values():
                if shop_key in (None, token.shop_key) and token.expires_at > now:
                    token.expires_at = now - dt.timedelta(seconds=1)
                    expired += 1
            return expired
