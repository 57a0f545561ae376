"""eBay's OAuth as a merchant's app meets it: the consent page, the token endpoint, the gate.

Authorization code grant: the seller agrees on /oauth2/authorize, is sent to the app's accept
URL with a `code` (single use, 299 s), which the app exchanges at /identity/v1/oauth2/token
(Basic client auth, the RuName as redirect_uri) for a User access token (7,200 s) and a refresh
token (47,304,000 s, about 18 months); the refresh grant mints access tokens with the granted
scopes or fewer. Codes and tokens look like eBay's ("v^1.1#i^1#...") so a client that forgets
to percent-encode them breaks here as it would at eBay.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sync.sandbox.errors import ApiError

from . import pages
from .errors import (
    CONSENT_BAD_REDIRECT,
    CONSENT_BAD_RESPONSE_TYPE,
    CONSENT_UNKNOWN_CLIENT,
    OAUTH_INVALID_CLIENT,
    OAUTH_INVALID_CODE,
    OAUTH_INVALID_REFRESH,
    OAUTH_INVALID_REQUEST,
    OAUTH_INVALID_SCOPE,
    OAUTH_UNSUPPORTED_GRANT,
    Redirect,
    insufficient_scope,
    invalid_token,
    missing_token,
    oauth_error,
)
from .model import SCOPE_BASE, AccessToken, App, AuthCode, RefreshToken, Seller

KIND_USER = "User Access Token"
KIND_APPLICATION = "Application Access Token"


@dataclass
class Session:
    """Who a Sell API call comes from: the seller (None for an application token), the
    token's scopes, and the id the kit keys faults, rate limits and the call log on."""

    seller: Seller | None
    scopes: list[str]
    shop_id: str


def _ebay_like(kind: str) -> str:
    """A random credential in eBay's shape: "v^1.1#i^1#...#t^<random>"."""
    flags = {"code": "r^1#I^3#f^0#p^3", "refresh": "p^3#I^3#r^1#f^0", "access": "f^0#p^3#I^3#r^0"}
    return f"v^1.1#i^1#{flags[kind]}#t^{secrets.token_urlsafe(48)}"


def _with_query(url: str, params: dict[str, Any]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class AuthApi:
    """Part of `Sandbox`: apps, consent, the token endpoint and who a Sell API call is."""

    lock: threading.RLock
    clock: Callable[[], dt.datetime]
    apps: dict[str, App]
    sellers: dict[str, Seller]
    seller: Callable[[str], Seller]
    codes: dict[str, AuthCode]
    refresh_tokens: dict[str, RefreshToken]
    access_tokens: dict[str, AccessToken]
    token_lifetime: int
    refresh_token_lifetime: int
    code_lifetime: int

    # --- apps (the control API) ---------------------------------------------------------

    def app_add(
        self,
        *,
        client_id: str,
        client_secret: str,
        ru_name: str,
        accept_url: str,
        decline_url: str | None = None,
        name: str = "",
        scopes: list[str] | None = None,
    ) -> App:
        with self.lock:
            if client_id in self.apps:
                raise ApiError(409, {"error": f"app {client_id} exists"})
            app = App(
                client_id=client_id,
                client_secret=client_secret,
                ru_name=ru_name,
                accept_url=accept_url,
                decline_url=decline_url or accept_url,
                name=name or client_id,
            )
            if scopes is not None:
                app.scopes = [str(scope) for scope in scopes]
            self.apps[client_id] = app
            return app

    def app(self, client_id: str) -> App:
        try:
            return self.apps[client_id]
        except KeyError:
            raise ApiError(404, {"error": f"no app {client_id}"}) from None

    # --- consent (auth.ebay.com/oauth2/authorize) -----------------------------------------

    def _consent_check(self, query: dict[str, str]) -> tuple[App, list[str]]:
        """The app and scopes a consent request names, or its error page (400)."""

        def refuse(error_id: str, description: str) -> ApiError:
            return ApiError(400, pages.error_page(error_id, description, 400))

        app = self.apps.get(query.get("client_id", ""))
        if app is None:
            raise refuse("unauthorized_client", CONSENT_UNKNOWN_CLIENT)
        # eBay takes the RuName here, never a URL: anything else is refused on the page.
        if query.get("redirect_uri") != app.ru_name:
            raise refuse("invalid_request", CONSENT_BAD_REDIRECT)
        if query.get("response_type") != "code":
            raise refuse("unsupported_response_type", CONSENT_BAD_RESPONSE_TYPE)
        scopes = query.get("scope", "").split()
        if not scopes or any(scope not in app.scopes for scope in scopes):
            raise refuse("invalid_scope", OAUTH_INVALID_SCOPE)
        return app, scopes

    def consent_page(self, query: dict[str, str], action: str) -> pages.Page:
        """GET /oauth2/authorize: the page where a seller agrees (or declines)."""
        with self.lock:
            app, scopes = self._consent_check(query)
            seller = query.get("seller")
            if seller is not None and seller not in self.sellers:
                raise ApiError(
                    400, pages.error_page("invalid_request", f"No seller account {seller}.", 400)
                )
            return pages.consent_page(
                app_name=app.name,
                action=action,
                scopes=scopes,
                sellers=sorted(self.sellers),
                seller=seller,
            )

    def consent_submit(self, query: dict[str, str], form: dict[str, str]) -> Redirect:
        """POST /oauth2/authorize: Agree sends a code to the accept URL, Decline sends
        error=access_denied to the decline URL; both carry the app's `state` back."""
        with self.lock:
            app, scopes = self._consent_check(query)
            state = {"state": query["state"]} if "state" in query else {}
            if form.get("decision") not in ("agree", "decline"):
                raise ApiError(400, pages.error_page("invalid_request", "Agree or Decline.", 400))
            if form["decision"] == "decline":
                return Redirect(_with_query(app.decline_url, {**state, "error": "access_denied"}))
            seller = form.get("seller") or query.get("seller") or ""
            if seller not in self.sellers:
                raise ApiError(
                    400, pages.error_page("invalid_request", "Pick a seller account.", 400)
                )
            code = AuthCode(
                code=_ebay_like("code"),
                client_id=app.client_id,
                seller=seller,
                scopes=scopes,
                expires_at=self.clock() + dt.timedelta(seconds=self.code_lifetime),
            )
            self.codes[code.code] = code
            return Redirect(
                _with_query(
                    app.accept_url,
                    {**state, "code": code.code, "expires_in": self.code_lifetime},
                )
            )

    # --- the token endpoint ---------------------------------------------------------------

    def client_authenticate(self, authorization: str | None) -> App:
        """The app of `Basic base64(client_id:client_secret)`, or 401 invalid_client."""
        if not authorization or not authorization.startswith("Basic "):
            raise oauth_error(401, "invalid_client", OAUTH_INVALID_CLIENT)
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise oauth_error(401, "invalid_client", OAUTH_INVALID_CLIENT) from None
        client_id, _, secret = decoded.partition(":")
        with self.lock:
            app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, secret):
            raise oauth_error(401, "invalid_client", OAUTH_INVALID_CLIENT)
        return app

    def _forget_stale(self, now: dt.datetime) -> None:
        """Drop codes and access tokens expired for a day (kept that long so that a late use
        is answered as eBay answers an expired one, not as an unknown one)."""
        day = dt.timedelta(days=1)
        for store in (self.codes, self.access_tokens):
            for key in [k for k, v in store.items() if v.expires_at < now - day]:
                del store[key]

    def _access_mint(
        self,
        app: App,
        seller: str | None,
        scopes: list[str],
        refresh_token: str | None,
    ) -> AccessToken:
        token = AccessToken(
            token=_ebay_like("access"),
            client_id=app.client_id,
            seller=seller,
            scopes=list(scopes),
            expires_at=self.clock() + dt.timedelta(seconds=self.token_lifetime),
            refresh_token=refresh_token,
        )
        self.access_tokens[token.token] = token
        return token

    def _user_grant(self, app: App, seller: str, scopes: list[str]) -> dict[str, Any]:
        refresh = RefreshToken(
            token=_ebay_like("refresh"),
            client_id=app.client_id,
            seller=seller,
            scopes=list(scopes),
            expires_at=self.clock() + dt.timedelta(seconds=self.refresh_token_lifetime),
        )
        self.refresh_tokens[refresh.token] = refresh
        access = self._access_mint(app, seller, scopes, refresh.token)
        return {
            "access_token": access.token,
            "expires_in": self.token_lifetime,
            "refresh_token": refresh.token,
            "refresh_token_expires_in": self.refresh_token_lifetime,
            "token_type": KIND_USER,
        }

    def token_issue(self, app: App, form: dict[str, str]) -> dict[str, Any]:
        """POST /identity/v1/oauth2/token: authorization_code, refresh_token or
        client_credentials (an application token, which opens no Sell API)."""
        grant = form.get("grant_type")
        with self.lock:
            now = self.clock()
            self._forget_stale(now)
            match grant:
                case "authorization_code":
                    if not form.get("code") or not form.get("redirect_uri"):
                        raise oauth_error(400, "invalid_request", OAUTH_INVALID_REQUEST)
                    code = self.codes.get(form["code"])
                    if (
                        code is None
                        or code.used
                        or code.expires_at <= now
                        or code.client_id != app.client_id
                        or form["redirect_uri"] != app.ru_name
                        or code.seller not in self.sellers
                    ):
                        raise oauth_error(400, "invalid_grant", OAUTH_INVALID_CODE)
                    code.used = True
                    return self._user_grant(app, code.seller, code.scopes)
                case "refresh_token":
                    if not form.get("refresh_token"):
                        raise oauth_error(400, "invalid_request", OAUTH_INVALID_REQUEST)
                    refresh = self.refresh_tokens.get(form["refresh_token"])
                    if (
                        refresh is None
                        or refresh.revoked
                        or refresh.expires_at <= now
                        or refresh.client_id != app.client_id
                        or refresh.seller not in self.sellers
                    ):
                        raise oauth_error(400, "invalid_grant", OAUTH_INVALID_REFRESH)
                    scopes = form.get("scope", "").split() or refresh.scopes
                    if any(scope not in refresh.scopes for scope in scopes):
                        raise oauth_error(400, "invalid_scope", OAUTH_INVALID_SCOPE)
                    access = self._access_mint(app, refresh.seller, scopes, refresh.token)
                    return {
                        "access_token": access.token,
                        "expires_in": self.token_lifetime,
                        "token_type": KIND_USER,
                    }
                case "client_credentials":
                    scopes = form.get("scope", "").split() or [SCOPE_BASE]
                    if scopes != [SCOPE_BASE]:
                        raise oauth_error(400, "invalid_scope", OAUTH_INVALID_SCOPE)
                    access = self._access_mint(app, None, scopes, None)
                    return {
                        "access_token": access.token,
                        "expires_in": self.token_lifetime,
                        "token_type": KIND_APPLICATION,
                    }
        raise oauth_error(400, "unsupported_grant_type", OAUTH_UNSUPPORTED_GRANT)

    # --- the gate of the Sell APIs --------------------------------------------------------

    def bearer_authenticate(self, authorization: str | None) -> Session:
        """The session of `Authorization: Bearer <access token>`, or 401 (1002 without a
        token; 1001 for an unknown, expired or revoked one, which eBay does not tell apart)."""
        if not authorization or not authorization.strip():
            raise missing_token()
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise invalid_token()
        with self.lock:
            access = self.access_tokens.get(token.strip())
            if access is None or access.expires_at <= self.clock():
                raise invalid_token()
            if access.refresh_token is not None:
                refresh = self.refresh_tokens.get(access.refresh_token)
                if refresh is None or refresh.revoked:
                    raise invalid_token()
            if access.seller is None:
                return Session(None, access.scopes, access.client_id)
            seller = self.sellers.get(access.seller)
            if seller is None:
                raise invalid_token()
            return Session(seller, access.scopes, seller.username)

    @staticmethod
    def scope_check(session: Session, accepted: tuple[str, ...]) -> Seller:
        """The seller, if the token carries one of the scopes the endpoint accepts; else 403
        (an application token opens no seller's data)."""
        if session.seller is None or not any(scope in session.scopes for scope in accepted):
            raise insufficient_scope()
        return session.seller

    # --- tokens (the control API) ---------------------------------------------------------

    def tokens_expire(self, seller: str | None = None) -> int:
        """Expire every access token (of one seller): the next call gets 401 1001."""
        with self.lock:
            if seller is not None:
                self.seller(seller)
            now = self.clock()
            expired = 0
            for token in self.access_tokens.values():
                if seller in (None, token.seller) and token.expires_at > now:
                    token.expires_at = now - dt.timedelta(seconds=1)
                    expired += 1
            return expired

    def tokens_revoke(self, *, refresh_token: str | None = None, seller: str | None = None) -> int:
        """Revoke one refresh token, or every one of a seller (the seller withdrew consent):
        the refresh grant answers invalid_grant and the access tokens it minted stop working.
        How many were revoked."""
        with self.lock:
            if refresh_token is None and seller is None:
                raise ApiError(400, {"error": "name a refreshToken or a seller"})
            if refresh_token is not None and refresh_token not in self.refresh_tokens:
                raise ApiError(404, {"error": "no such refresh token"})
            revoked = 0
            for token in self.refresh_tokens.values():
                if token.revoked:
                    continue
                if token.token == refresh_token or (seller is not None and token.seller == seller):
                    token.revoked = True
                    revoked += 1
            return revoked

    def grant_mint(self, client_id: str, seller: str, scopes: list[str] | None) -> dict[str, Any]:
        """A seller's consent without the browser (tests and demos): the authorization code
        grant's answer."""
        with self.lock:
            app = self.app(client_id)
            self.seller(seller)
            wanted = list(scopes) if scopes else list(app.scopes)
            if any(scope not in app.scopes for scope in wanted):
                raise ApiError(400, {"error": "scope not allowed for this app"})
            return self._user_grant(app, seller, wanted)
