"""RMS's gate: ESA authentication, the licence key and its expiry, the one Content-Type it takes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from ..endpoints import JSON_CONTENT_TYPE
from ..types import JST
from .errors import gateway_error, inventory_error
from .model import Shop


class AuthApi:
    """Part of `Sandbox`: who is calling, and the licence API."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    shops: dict[str, Shop]
    shop: Callable[[str], Shop]

    def authenticate(self, header: str | None) -> Shop:
        """The shop of an `ESA base64(serviceSecret:licenseKey)` header; 401 GA0001 once expired."""
        if not header or not header.startswith("ESA "):
            raise gateway_error(401, "ES01-01", "Un-Authorised")
        try:
            secret, _, key = base64.b64decode(header[4:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise gateway_error(401, "ES01-01", "Un-Authorised") from None
        with self.lock:
            shop = next((s for s in self.shops.values() if s.license_key == key), None)
        if shop is None or shop.service_secret != secret:
            raise gateway_error(401, "ES01-01", "Un-Authorised")
        if shop.license_expires_at < self.clock():
            raise gateway_error(401, "GA0001", "License key is expired.")
        return shop

    # The Content-Type forms this sandbox takes (RMS's own is disputed: see endpoints.py);
    # set with POST /_sandbox/content-types.
    accepted_content_types: tuple[str, ...] = (JSON_CONTENT_TYPE,)

    def content_type_check(self, content_type: str | None) -> None:
        if (content_type or "").lower() not in self.accepted_content_types:
            raise gateway_error(415, "ES04-03", "Unsupported Media Type")

    def license_expiry(self, shop: Shop, query: dict[str, str]) -> dict[str, Any]:
        key = query.get("licenseKey")
        if not key:
            raise inventory_error(400, [("GE0001", "licenseKey is required.", "licenseKey")])
        if key != shop.license_key:
            raise inventory_error(400, [("GE0002", "licenseKey is invalid.", "licenseKey")])
        return {"expiryDate": shop.license_expires_at.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S")}

    def license_expiry_set(self, shop_id: str, expires_at: dt.datetime) -> None:
        """What Rakuten does when a licence is renewed, or lets lapse."""
        with self.lock:
            self.shop(shop_id).license_expires_at = expires_at
