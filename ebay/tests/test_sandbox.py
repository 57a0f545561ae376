"""The eBay sandbox over HTTP, as a real client sees it: consent, the token endpoint and its
errors, the Sell APIs' gate and scopes, inventory items (paging by `next`, the replace that
wipes), offers, bulkUpdatePriceQuantity (207, the revision limit), orders (filters, paging,
cancel and ship), and the kit's rate limits, faults, call log and persistence; then the demo
and the command.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from ebay.sandbox.demo import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ITEMS,
    DEMO_RU_NAME,
    DEMO_SELLER,
    demo_load,
)
from ebay.sandbox.errors import (
    MSG_AUCTION_ALLOCATION,
    MSG_SKU_INVALID,
    OAUTH_INVALID_CODE,
    OAUTH_INVALID_REFRESH,
    OAUTH_INVALID_SCOPE,
)
from ebay.sandbox.model import (
    SCOPE_FULFILLMENT,
    SCOPE_FULFILLMENT_READ,
    SCOPE_INVENTORY,
    SCOPE_INVENTORY_READ,
)
from ebay.sandbox.server import SandboxServer
from ebay.sandbox.state import DEFAULT_RATE_LIMITS, ENDPOINTS, Sandbox
from sync.sandbox.faults import FAULT_KINDS

SELLER = "seller-a"
CLIENT_ID = "Acme-app-SBX-0001"
SECRET = "SBX-secret-a"
RU_NAME = "Acme-Acme-app-SBX-rrrr"
ACCEPT = "http://127.0.0.1:8000/ebay/callback/"
DECLINE = "http://127.0.0.1:8000/ebay/declined/?from=ebay"
SCOPES = [SCOPE_INVENTORY, SCOPE_FULFILLMENT]
FAST = dict.fromkeys(DEFAULT_RATE_LIMITS, 1000.0)
INV = "/sell/inventory/v1"
ORDERS = "/sell/fulfillment/v1/order"
TOKEN = "/identity/v1/oauth2/token"
AUTHORIZE = "/oauth2/authorize"
SHARED_LISTING = "110000099999"

ITEMS = [
    {
        "sku": "A-1",
        "title": "Alarm clock",
        "quantity": 10,
        "offers": [{"offerId": "O-A1", "availableQuantity": 10, "price": "20.00"}],
    },
    {
        "sku": "B-2",
        "title": "Bag",
        "quantity": 5,
        "offers": [
            {"offerId": "O-B2", "availableQuantity": 5, "price": "30.00"},
            {"offerId": "O-B2-AUC", "format": "AUCTION", "price": "9.00"},
        ],
    },
    {
        "sku": "c-3",
        "title": "Cup",
        "quantity": 0,
        "offers": [{"offerId": "O-C3", "status": "UNPUBLISHED"}],
    },
    {
        "sku": "V-M",
        "title": "Vest M",
        "quantity": 4,
        "offers": [
            {
                "offerId": "O-VM",
                "availableQuantity": 4,
                "listingId": SHARED_LISTING,
                "legacyVariationId": "4100001",
            }
        ],
    },
    {
        "sku": "V-L",
        "title": "Vest L",
        "quantity": 2,
        "offers": [
            {
                "offerId": "O-VL",
                "availableQuantity": 2,
                "listingId": SHARED_LISTING,
                "legacyVariationId": "4100002",
            }
        ],
    },
    {"sku": "D-4", "title": "Dish", "quantity": 1},
]
LEGACY_LISTING = "110000077777"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Sandbox:
    sandbox = Sandbox(rate_limits=FAST, clock=clock, hang_seconds=1.0)
    sandbox.app_add(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        ru_name=RU_NAME,
        accept_url=ACCEPT,
        decline_url=DECLINE,
        name="Acme <Sync>",
    )
    sandbox.seller_add(username=SELLER, items=ITEMS, legacy_listings={LEGACY_LISTING: "Old poster"})
    return sandbox


@pytest.fixture(scope="module")
def shared_server():
    server = SandboxServer(Sandbox()).start()
    yield server
    server.stop()


@pytest.fixture
def server(shared_server: SandboxServer, sandbox: Sandbox, tmp_path: Path) -> SandboxServer:
    """One server for the module (a stop waits out its poll), a fresh sandbox for each test."""
    shared_server.sandbox = sandbox
    shared_server.state_file = tmp_path / "state.json"
    return shared_server


def control(server: SandboxServer, method: str, path: str, body=None) -> requests.Response:
    return requests.request(method, f"{server.url}/_sandbox/{path}", json=body, timeout=5)


def stock(server: SandboxServer, sku: str, seller: str = SELLER) -> dict:
    answer = control(server, "GET", f"sellers/{seller}/stock/{quote(sku, safe='')}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def offer_row(server: SandboxServer, sku: str, offer_id: str) -> dict:
    return next(o for o in stock(server, sku)["offers"] if o["offerId"] == offer_id)


def consent_url(server: SandboxServer, **params: str) -> str:
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": RU_NAME,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "state": "st-1",
        **params,
    }
    query = {k: v for k, v in query.items() if v is not None}
    return f"{server.url}{AUTHORIZE}?" + "&".join(
        f"{k}={quote(v, safe='')}" for k, v in query.items()
    )


def consent(
    server: SandboxServer, seller: str = SELLER, decision: str = "agree", **params: str
) -> requests.Response:
    return requests.post(
        consent_url(server, **params),
        data={"seller": seller, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )


def redirect_query(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def token_post(server: SandboxServer, form: dict, authorization: str | None = None):
    return requests.post(
        server.url + TOKEN,
        headers={"Authorization": authorization or basic()},
        data=form,
        timeout=5,
    )


def exchange(server: SandboxServer, code: str, redirect_uri: str = RU_NAME, **kwargs):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return token_post(server, form, **kwargs)


def connect(server: SandboxServer, scopes: list[str] = SCOPES, seller: str = SELLER) -> dict:
    """The whole consent: page, Agree, callback code, token exchange."""
    code = redirect_query(consent(server, seller=seller, scope=" ".join(scopes)))["code"]
    answer = exchange(server, code)
    assert answer.status_code == 200, answer.text
    return answer.json()


class Api:
    """Just enough of an eBay client: Bearer token, JSON bodies."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def headers(self, extra: dict | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, timeout: float = 5, **params) -> requests.Response:
        url = path if path.startswith("http") else self.url + path
        return requests.get(url, headers=self.headers(), params=params, timeout=timeout)

    def post(self, path: str, body) -> requests.Response:
        return requests.post(self.url + path, headers=self.headers(), json=body, timeout=5)

    def put_item(self, sku: str, body, language: str | None = "en-US") -> requests.Response:
        headers = self.headers({"Content-Language": language} if language else {})
        url = f"{self.url}{INV}/inventory_item/{quote(sku, safe='')}"
        return requests.put(url, headers=headers, json=body, timeout=5)

    def bulk_update(self, *entries: dict) -> requests.Response:
        return self.post(f"{INV}/bulk_update_price_quantity", {"requests": list(entries)})


def api_for(server: SandboxServer, seller: str = SELLER) -> Api:
    """A client of `seller` with a fresh token (the control API's consent shortcut)."""
    grant = control(server, "POST", "tokens", {"clientId": CLIENT_ID, "seller": seller}).json()
    return Api(server.url, grant["access_token"])


@pytest.fixture
def api(server: SandboxServer) -> Api:
    return api_for(server)


def entry(sku: str | None, quantity: int | None = None, **offers: int) -> dict:
    """A bulk update entry: the item's quantity and offers' availableQuantity."""
    body: dict = {}
    if sku is not None:
        body["sku"] = sku
    if quantity is not None:
        body["shipToLocationAvailability"] = {"quantity": quantity}
    if offers:
        body["offers"] = [{"offerId": k, "availableQuantity": v} for k, v in offers.items()]
    return body


def place(server: SandboxServer, *lines: dict, **extra) -> requests.Response:
    return control(server, "POST", f"sellers/{SELLER}/orders", {"lines": list(lines), **extra})


# --- consent ------------------------------------------------------------------------------


def test_consent_page_is_plain_escaped_html(server, sandbox):
    sandbox.seller_add(username="<b>bold</b>")
    answer = requests.get(consent_url(server, state="<script>x</script>"), timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.text
    assert "Acme &lt;Sync&gt;" in page  # the app's name, escaped
    assert SCOPE_INVENTORY in page
    assert SCOPE_FULFILLMENT in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    assert "<script" not in page
    assert "%3Cscript%3E" in page  # the state, in the form action as the request had it
    assert "<link" not in page
    assert "src=" not in page
    assert 'value="agree"' in page
    assert 'value="decline"' in page


def test_consent_page_can_fix_the_seller(server):
    page = requests.get(consent_url(server, seller=SELLER), timeout=5)
    assert page.status_code == 200
    assert f"Signed in as <strong>{SELLER}</strong>" in page.text
    unknown = requests.get(consent_url(server, seller="nobody"), timeout=5)
    assert unknown.status_code == 400


def test_agree_redirects_to_the_accept_url_with_code_state_and_expiry(server):
    answer = consent(server)
    assert answer.headers["Location"].startswith(ACCEPT + "?")
    query = redirect_query(answer)
    assert query["state"] == "st-1"
    assert query["expires_in"] == "299"
    assert query["code"].startswith("v^1.1#")  # eBay's shape: ^ and # must be encoded
    assert "%5E" in answer.headers["Location"]
    assert "%23" in answer.headers["Location"]


def test_decline_redirects_to_the_decline_url(server):
    query = redirect_query(consent(server, decision="decline"))
    assert query == {"from": "ebay", "error": "access_denied", "state": "st-1"}


@pytest.mark.parametrize(
    ("params", "error_id"),
    [
        ({"client_id": "unknown"}, "unauthorized_client"),
        ({"redirect_uri": "https://elsewhere.example/cb"}, "invalid_request"),
        (
            {"scope": f"{SCOPE_INVENTORY} https://api.ebay.com/oauth/api_scope/nope"},
            "invalid_scope",
        ),
        ({"scope": None}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_consent_requests_get_an_error_page(server, params, error_id):
    for answer in (
        requests.get(consent_url(server, **params), timeout=5, allow_redirects=False),
        consent(server, **params),
    ):
        assert answer.status_code == 400
        assert answer.headers["Content-Type"].startswith("text/html")
        assert error_id in answer.text
        assert "Location" not in answer.headers


def test_a_scope_the_app_may_not_ask_is_refused(server, sandbox):
    sandbox.apps[CLIENT_ID].scopes = [SCOPE_INVENTORY]
    assert requests.get(consent_url(server), timeout=5).status_code == 400


def test_agree_needs_a_known_seller_and_a_decision(server):
    assert consent(server, seller="nobody").status_code == 400
    assert consent(server, decision="maybe").status_code == 400


# --- the token endpoint --------------------------------------------------------------------


def test_code_exchange_answers_like_ebay_and_the_code_is_single_use(server):
    code = redirect_query(consent(server))["code"]
    answer = exchange(server, code)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert body["expires_in"] == 7200
    assert body["refresh_token_expires_in"] == 47304000
    assert body["token_type"] == "User Access Token"
    again = exchange(server, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": OAUTH_INVALID_CODE}
    assert Api(server.url, body["access_token"]).get(f"{INV}/inventory_item").status_code == 200


def test_a_code_expires_after_299_seconds(server, clock):
    code = redirect_query(consent(server))["code"]
    clock.advance(299)
    assert exchange(server, code).json()["error"] == "invalid_grant"
    fresh = redirect_query(consent(server))["code"]
    clock.advance(298)
    assert exchange(server, fresh).status_code == 200


def test_a_code_is_bound_to_its_app_and_runame(server, sandbox):
    sandbox.app_add(client_id="other", client_secret="s2", ru_name="other-ru", accept_url=ACCEPT)
    code = redirect_query(consent(server))["code"]
    assert exchange(server, code, redirect_uri="other-ru").json()["error"] == "invalid_grant"
    stolen = exchange(server, code, redirect_uri="other-ru", authorization=basic("other", "s2"))
    assert stolen.json()["error"] == "invalid_grant"
    missing = token_post(server, {"grant_type": "authorization_code", "redirect_uri": RU_NAME})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "authorization", [None, basic(secret="wrong"), basic(client_id="nobody"), "Basic !!!"]
)
def test_the_token_endpoint_needs_the_apps_basic_credentials(server, authorization):
    answer = requests.post(
        server.url + TOKEN,
        headers={"Authorization": authorization} if authorization else {},
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=5,
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": "client authentication failed",
    }


def test_unsupported_grant_types(server):
    for answer in (
        token_post(server, {"grant_type": "password"}),
        token_post(server, {}),
        requests.post(  # JSON: eBay reads no grant_type from it
            server.url + TOKEN,
            headers={"Authorization": basic()},
            json={"grant_type": "refresh_token"},
            timeout=5,
        ),
    ):
        assert answer.status_code == 400
        assert answer.json()["error"] == "unsupported_grant_type"


def test_refresh_grant_mints_access_tokens_with_the_granted_scopes_or_fewer(server):
    grant = connect(server)
    answer = token_post(
        server,
        {
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "scope": SCOPE_INVENTORY,
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "User Access Token"
    narrow = Api(server.url, body["access_token"])
    assert narrow.get(f"{INV}/inventory_item").status_code == 200
    assert narrow.get(ORDERS).status_code == 403  # the fulfillment scope was left out
    wider = token_post(
        server,
        {
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "scope": f"{SCOPE_INVENTORY} {SCOPE_FULFILLMENT_READ}",
        },
    )
    assert wider.status_code == 400
    assert wider.json() == {"error": "invalid_scope", "error_description": OAUTH_INVALID_SCOPE}
    default = token_post(
        server, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    )
    assert Api(server.url, default.json()["access_token"]).get(ORDERS).status_code == 200


def test_a_revoked_refresh_token_is_invalid_grant_and_its_access_tokens_stop(server):
    grant = connect(server)
    api = Api(server.url, grant["access_token"])
    assert api.get(f"{INV}/inventory_item").status_code == 200
    revoked = control(server, "POST", "tokens/revoke", {"refreshToken": grant["refresh_token"]})
    assert revoked.json() == {"revoked": 1}
    refresh = token_post(
        server, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    )
    assert refresh.status_code == 400
    assert refresh.json() == {"error": "invalid_grant", "error_description": OAUTH_INVALID_REFRESH}
    assert api.get(f"{INV}/inventory_item").status_code == 401
    assert control(server, "POST", "tokens/revoke", {"refreshToken": "nope"}).status_code == 404


def test_a_seller_withdrawing_consent_revokes_every_grant(server):
    first, second = connect(server), connect(server)
    assert control(server, "POST", "tokens/revoke", {"seller": SELLER}).json() == {"revoked": 2}
    for grant in (first, second):
        refresh = token_post(
            server, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        )
        assert refresh.json()["error"] == "invalid_grant"


def test_a_refresh_token_expires(server, clock):
    grant = connect(server)
    clock.advance(47304000)
    refresh = token_post(
        server, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_lifetimes_are_settable(server):
    assert control(server, "PUT", "token-lifetime", {"seconds": 60}).status_code == 200
    control(server, "PUT", "config", {"refreshTokenLifetime": 3600, "codeLifetime": 30})
    assert redirect_query(consent(server))["expires_in"] == "30"
    grant = connect(server)
    assert (grant["expires_in"], grant["refresh_token_expires_in"]) == (60, 3600)


def test_client_credentials_give_an_application_token_that_opens_no_seller(server):
    answer = token_post(
        server,
        {"grant_type": "client_credentials", "scope": "https://api.ebay.com/oauth/api_scope"},
    )
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Application Access Token"
    assert Api(server.url, answer.json()["access_token"]).get(ORDERS).status_code == 403
    wrong = token_post(server, {"grant_type": "client_credentials", "scope": SCOPE_INVENTORY})
    assert wrong.json()["error"] == "invalid_scope"


# --- the gate of the Sell APIs -------------------------------------------------------------

INVALID_TOKEN_BODY = {
    "errors": [
        {
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": (
                "Invalid access token. Check the value of the Authorization HTTP request header."
            ),
        }
    ]
}


@pytest.mark.parametrize("path", [f"{INV}/inventory_item", ORDERS, f"{INV}/offer?sku=A-1"])
def test_calls_without_a_valid_token_are_401(server, path):
    missing = requests.get(server.url + path, timeout=5)
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["errorId"] == 1002
    for authorization in ("Bearer nope", "Basic abc", "Bearer "):
        answer = requests.get(
            server.url + path, headers={"Authorization": authorization}, timeout=5
        )
        assert answer.status_code == 401
        assert answer.json() in (INVALID_TOKEN_BODY, missing.json())


def test_an_expired_access_token_is_401_like_an_invalid_one(server, api, clock):
    assert api.get(f"{INV}/inventory_item").status_code == 200
    assert control(server, "POST", "tokens/expire", {"seller": SELLER}).json() == {"expired": 1}
    expired = api.get(f"{INV}/inventory_item")
    assert expired.status_code == 401
    assert expired.json() == INVALID_TOKEN_BODY
    fresh = connect(server)
    clock.advance(7200)
    assert Api(server.url, fresh["access_token"]).get(ORDERS).json() == INVALID_TOKEN_BODY


def test_readonly_scopes_allow_reads_only(server):
    grant = control(
        server,
        "POST",
        "tokens",
        {
            "clientId": CLIENT_ID,
            "seller": SELLER,
            "scopes": [SCOPE_INVENTORY_READ, SCOPE_FULFILLMENT_READ],
        },
    ).json()
    api = Api(server.url, grant["access_token"])
    assert api.get(f"{INV}/inventory_item").status_code == 200
    assert api.get(f"{INV}/offer", sku="A-1").status_code == 200
    assert api.post(f"{INV}/bulk_get_inventory_item", {"requests": [{"sku": "A-1"}]}).ok
    assert api.get(ORDERS).status_code == 200
    denied = api.bulk_update(entry("A-1", 3))
    assert denied.status_code == 403
    assert denied.json() == {
        "errors": [
            {
                "errorId": 1100,
                "domain": "ACCESS",
                "category": "REQUEST",
                "message": "Access denied",
                "longMessage": "Insufficient permissions to fulfill the request.",
            }
        ]
    }
    assert api.put_item("A-1", {}).status_code == 403
    assert stock(server, "A-1")["quantity"] == 10


def test_one_sellers_token_sees_only_that_seller(server, sandbox):
    sandbox.seller_add(username="seller-b", items=[{"sku": "B-ONLY", "quantity": 1}])
    other = api_for(server, "seller-b")
    skus = [i["sku"] for i in other.get(f"{INV}/inventory_item").json()["inventoryItems"]]
    assert skus == ["B-ONLY"]
    assert other.get(f"{INV}/inventory_item/A-1").status_code == 404


def test_unknown_paths_and_methods(server, api):
    assert requests.get(server.url + "/sell/nothing", timeout=5).status_code == 404
    assert requests.delete(server.url + f"{INV}/inventory_item/A-1", timeout=5).status_code == 405


# --- inventory items -------------------------------------------------------------------------


def test_inventory_pages_follow_next_to_the_end(server, api):
    first = api.get(f"{INV}/inventory_item", limit="2")
    assert first.status_code == 200
    body = first.json()
    assert body["total"] == 6
    assert body["limit"] == 2
    assert body["size"] == 2
    assert "prev" not in body
    assert body["href"].startswith(server.url + f"{INV}/inventory_item?")
    assert body["next"].startswith(server.url)
    assert "offset=2" in body["next"]
    skus, url, pages = [], body["href"], 0
    while url:
        page = api.get(url).json()
        skus += [item["sku"] for item in page["inventoryItems"]]
        url, pages = page.get("next"), pages + 1
    assert skus == [item["sku"] for item in ITEMS]
    assert pages == 3
    last = api.get(f"{INV}/inventory_item", limit="2", offset="4").json()
    assert "next" not in last
    assert "offset=2" in last["prev"]


def test_offset_can_be_a_page_number_and_size_a_page_count(server, api):
    control(server, "PUT", "config", {"offsetMode": "pages", "sizeMode": "pages"})
    body = api.get(f"{INV}/inventory_item", limit="4").json()
    assert "offset=1" in body["next"]
    assert body["size"] == 2  # 6 items, 4 a page
    second = api.get(body["next"]).json()
    assert [i["sku"] for i in second["inventoryItems"]] == ["V-L", "D-4"]
    assert "next" not in second
    assert "offset=0" in second["prev"]


@pytest.mark.parametrize(("limit", "offset"), [("0", "0"), ("201", "0"), ("x", "0"), ("5", "-1")])
def test_inventory_paging_values_are_checked(server, api, limit, offset):
    answer = api.get(f"{INV}/inventory_item", limit=limit, offset=offset)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["errorId"] == 25706


def test_the_largest_inventory_page_is_settable(server, api):
    assert api.get(f"{INV}/inventory_item", limit="200").status_code == 200
    control(server, "PUT", "config", {"inventoryLimitMax": 100})
    assert api.get(f"{INV}/inventory_item", limit="150").status_code == 400
    assert api.get(f"{INV}/inventory_item").json()["limit"] == 25


def test_an_item_has_no_price_and_no_offers(server, api):
    answer = api.get(f"{INV}/inventory_item/A-1")
    assert answer.status_code == 200
    assert answer.json() == {
        "sku": "A-1",
        "locale": "en_US",
        "product": {"title": "Alarm clock"},
        "condition": "NEW",
        "availability": {"shipToLocationAvailability": {"quantity": 10}},
    }


def test_skus_are_case_sensitive_and_unknown_ones_are_25710(server, api):
    assert api.get(f"{INV}/inventory_item/c-3").status_code == 200
    missing = api.get(f"{INV}/inventory_item/C-3")
    assert missing.status_code == 404
    error = missing.json()["errors"][0]
    assert error["errorId"] == 25710
    assert error["domain"] == "API_INVENTORY"


def test_skus_with_spaces_and_slashes_travel_percent_encoded(server, api):
    sku = "odd sku/with+plus"
    assert api.put_item(sku, {"product": {"title": "Odd"}}).status_code == 201
    got = requests.get(
        f"{server.url}{INV}/inventory_item/{quote(sku, safe='')}", headers=api.headers(), timeout=5
    )
    assert got.json()["sku"] == sku


def test_skus_over_50_characters_are_25707(server, api):
    long_sku = "X" * 51
    for answer in (
        api.get(f"{INV}/inventory_item/{long_sku}"),
        api.put_item(long_sku, {}),
        api.get(f"{INV}/offer", sku=long_sku),
    ):
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["errorId"] == 25707
    assert api.put_item("X" * 50, {}).status_code == 201


def test_strict_skus_refuse_characters_outside_the_safe_set(server, api):
    control(server, "PUT", "config", {"skuStrict": True})
    assert api.put_item("has space", {}).json()["errors"][0]["errorId"] == 25707
    assert api.put_item("ok_SKU-1.2", {}).status_code == 201


def test_bulk_get_answers_200_or_207_per_sku(server, api):
    url = f"{INV}/bulk_get_inventory_item"
    all_found = api.post(url, {"requests": [{"sku": "A-1"}, {"sku": "B-2"}]})
    assert all_found.status_code == 200
    responses = all_found.json()["responses"]
    assert [r["statusCode"] for r in responses] == [200, 200]
    assert responses[0]["inventoryItem"]["sku"] == "A-1"
    partial = api.post(url, {"requests": [{"sku": "A-1"}, {"sku": "nope"}]})
    assert partial.status_code == 207
    missing = partial.json()["responses"][1]
    assert missing["statusCode"] == 404
    assert missing["sku"] == "nope"
    assert missing["errors"][0]["errorId"] == 25702
    assert "inventoryItem" not in missing
    too_many = api.post(url, {"requests": [{"sku": f"S{i}"} for i in range(26)]})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["errorId"] == 25727
    twice = api.post(url, {"requests": [{"sku": "A-1"}, {"sku": "A-1"}]})
    assert twice.json()["errors"][0]["errorId"] == 25734
    assert api.post(url, {"requests": "A-1"}).json()["errors"][0]["errorId"] == 2004


def test_replace_wipes_every_field_left_out(server, api):
    assert stock(server, "B-2")["quantity"] == 5
    replaced = api.put_item("B-2", {"product": {"title": "Bag, new title"}, "condition": "NEW"})
    assert replaced.status_code == 400  # a live auction holds 1: quantity 0 is refused
    assert replaced.json()["errors"][0] == {
        "errorId": 25759,
        "domain": "API_INVENTORY",
        "subdomain": "Selling",
        "category": "REQUEST",
        "message": MSG_AUCTION_ALLOCATION,
        "parameters": [{"name": "sku", "value": "B-2"}],
    }
    answer = api.put_item("A-1", {"product": {"title": "Alarm clock 2"}})
    assert answer.status_code == 204
    item = api.get(f"{INV}/inventory_item/A-1").json()
    assert item == {"sku": "A-1", "locale": "en_US", "product": {"title": "Alarm clock 2"}}
    assert stock(server, "A-1")["quantity"] is None  # the stock is gone with the field
    full = {
        "product": {
            "title": "Alarm",
            "aspects": {"Brand": ["Acme"], "MPN": ["AC-1"]},
            "imageUrls": ["https://i.example/1.jpg"],
            "ean": ["4901234567894"],
        },
        "condition": "USED_EXCELLENT",
        "availability": {"shipToLocationAvailability": {"quantity": 7}},
        "unknownField": 1,
    }
    assert api.put_item("A-1", full, language="de-DE").status_code == 204
    item = api.get(f"{INV}/inventory_item/A-1").json()
    assert item["locale"] == "de_DE"
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 7
    assert "unknownField" not in item


def test_replace_needs_content_language_and_typed_fields(server, api):
    missing = api.put_item("A-1", {}, language=None)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["errorId"] == 25709
    assert missing.json()["errors"][0]["message"] == "Invalid value for header Content-Language."
    for body, field in [
        ({"product": {"aspects": {"Brand": "Acme"}}}, "product.aspects"),
        ({"availability": {"shipToLocationAvailability": {"quantity": "7"}}}, None),
        ({"condition": "SHINY"}, "condition"),
        ([], ""),
    ]:
        answer = api.put_item("A-1", body)
        assert answer.status_code == 400
        error = answer.json()["errors"][0]
        assert error["errorId"] == 2004
        assert error["longMessage"] == (
            "The request has errors. For help, see the documentation for this API."
        )
        if field is not None:
            assert error["parameters"] == [
                {"name": "reason", "value": f"Could not serialize field [{field}]"}
            ]
    negative = api.put_item(
        "A-1", {"availability": {"shipToLocationAvailability": {"quantity": -1}}}
    )
    assert negative.json()["errors"][0]["errorId"] == 25709
    assert stock(server, "A-1")["quantity"] == 10


def test_a_replace_that_changes_something_revises_the_listings(server, api):
    body = api.get(f"{INV}/inventory_item/A-1").json()
    record = {k: v for k, v in body.items() if k not in ("sku", "locale")}
    assert api.put_item("A-1", record).status_code == 204
    assert offer_row(server, "A-1", "O-A1")["revisionsToday"] == 0  # nothing changed
    record["availability"]["shipToLocationAvailability"]["quantity"] = 9
    assert api.put_item("A-1", record).status_code == 204
    assert offer_row(server, "A-1", "O-A1")["revisionsToday"] == 1
    control(server, "PUT", "config", {"revisionBudget": 1})
    record["availability"]["shipToLocationAvailability"]["quantity"] = 8
    refused = api.put_item("A-1", record)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["errorId"] == 25019
    assert stock(server, "A-1")["quantity"] == 9


@pytest.mark.parametrize(
    ("setting", "status", "error_id"), [("internal", 500, 2003), ("415", 415, 2004)]
)
def test_a_body_that_is_not_json_is_refused(server, api, setting, status, error_id):
    control(server, "PUT", "config", {"contentTypeError": setting})
    form = requests.post(
        f"{server.url}{INV}/bulk_update_price_quantity",
        headers=api.headers({"Content-Type": "application/x-www-form-urlencoded"}),
        data=json.dumps({"requests": [entry("A-1", 1)]}),
        timeout=5,
    )
    assert form.status_code == status
    assert form.json()["errors"][0]["errorId"] == error_id
    broken = requests.post(
        f"{server.url}{INV}/bulk_update_price_quantity",
        headers=api.headers({"Content-Type": "application/json"}),
        data=b'{"requests": [',
        timeout=5,
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["errorId"] == 2004
    assert stock(server, "A-1")["quantity"] == 10


# --- offers ------------------------------------------------------------------------------------


def test_offers_of_a_sku(server, api):
    answer = api.get(f"{INV}/offer", sku="B-2")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["size"], body["limit"]) == (2, 2, 100)
    fixed, auction = body["offers"]
    assert fixed["offerId"] == "O-B2"
    assert fixed["format"] == "FIXED_PRICE"
    assert fixed["availableQuantity"] == 5
    assert fixed["pricingSummary"] == {"price": {"value": "30.00", "currency": "USD"}}
    assert fixed["status"] == "PUBLISHED"
    assert fixed["listing"]["listingStatus"] == "ACTIVE"
    assert fixed["listing"]["soldQuantity"] == 0
    assert fixed["marketplaceId"] == "EBAY_US"
    assert fixed["merchantLocationKey"] == "default"
    assert auction["format"] == "AUCTION"
    assert "availableQuantity" not in auction
    only = api.get(f"{INV}/offer", sku="B-2", format="AUCTION").json()
    assert [o["offerId"] for o in only["offers"]] == ["O-B2-AUC"]
    unpublished = api.get(f"{INV}/offer", sku="c-3").json()["offers"][0]
    assert unpublished["status"] == "UNPUBLISHED"
    assert "listing" not in unpublished
    variations = [
        api.get(f"{INV}/offer", sku=sku).json()["offers"][0]["listing"]["listingId"]
        for sku in ("V-M", "V-L")
    ]
    assert variations == [SHARED_LISTING, SHARED_LISTING]


def test_offers_need_a_sku_and_a_sku_without_offers_is_404(server, api):
    no_sku = api.get(f"{INV}/offer")
    assert no_sku.status_code == 400
    assert no_sku.json()["errors"][0]["errorId"] == 25707
    assert no_sku.json()["errors"][0]["message"] == MSG_SKU_INVALID  # misleading, as eBay's
    for sku in ("D-4", "nothing"):
        none = api.get(f"{INV}/offer", sku=sku)
        assert none.status_code == 404
        assert none.json()["errors"][0]["errorId"] == 25713
    bad = api.get(f"{INV}/offer", sku="A-1", format="BARTER")
    assert bad.json()["errors"][0]["errorId"] == 25709
    assert api.get(f"{INV}/offer", sku="A-1", marketplace_id="EBAY_DE").status_code == 404
    assert api.get(f"{INV}/offer", sku="A-1", marketplace_id="nope").status_code == 400


def test_offer_pages_follow_next(server, api):
    page = api.get(f"{INV}/offer", sku="B-2", limit="1").json()
    assert page["size"] == 1
    assert "offset=1" in page["next"]
    assert api.get(page["next"]).json()["offers"][0]["offerId"] == "O-B2-AUC"


# --- bulkUpdatePriceQuantity ---------------------------------------------------------------------


def test_a_bulk_update_sets_item_and_offer_quantity(server, api):
    answer = api.bulk_update(entry("A-1", 7, **{"O-A1": 7}), entry("V-M", 3, **{"O-VM": 3}))
    assert answer.status_code == 200
    assert answer.json() == {
        "responses": [
            {"offerId": "O-A1", "sku": "A-1", "statusCode": 200},
            {"offerId": "O-VM", "sku": "V-M", "statusCode": 200},
        ]
    }
    row = stock(server, "A-1")
    assert row["quantity"] == 7
    assert row["offers"][0]["availableQuantity"] == 7
    assert row["offers"][0]["listingQuantity"] == 7


def test_an_entry_without_offers_answers_once_for_its_sku(server, api):
    answer = api.bulk_update(entry("D-4", 4))
    assert answer.json() == {"responses": [{"sku": "D-4", "statusCode": 200}]}
    assert stock(server, "D-4")["quantity"] == 4
    by_offer = api.bulk_update(entry(None, None, **{"O-A1": 2}))
    assert by_offer.json()["responses"] == [{"offerId": "O-A1", "sku": "A-1", "statusCode": 200}]
    assert offer_row(server, "A-1", "O-A1")["availableQuantity"] == 2
    assert stock(server, "A-1")["quantity"] == 10


def test_a_partial_update_answers_207_and_applies_only_the_good_entries(server, api):
    answer = api.bulk_update(
        entry("A-1", 6, **{"O-A1": 6}),
        entry("NOPE", 1),
        entry("V-M", 1, **{"O-UNKNOWN": 1}),
        entry("V-L", -1, **{"O-VL": 1}),
        entry("c-3", 1, **{"O-C3": 1}),
        entry("B-2", 0, **{"O-B2": 0}),
        entry("D-4", 2),
    )
    assert answer.status_code == 207
    responses = answer.json()["responses"]
    by_sku = {r["sku"]: r for r in responses}
    assert by_sku["A-1"] == {"offerId": "O-A1", "sku": "A-1", "statusCode": 200}
    assert by_sku["D-4"]["statusCode"] == 200
    expected = {
        "NOPE": (404, 25702),
        "V-M": (404, 25713),
        "V-L": (400, 25709),
        "c-3": (400, 25713),
        "B-2": (400, 25759),
    }
    for sku, (status, error_id) in expected.items():
        response = by_sku[sku]
        assert response["statusCode"] == status, response
        error = response["errors"][0]
        assert error["errorId"] == error_id
        assert set(error) >= {"errorId", "domain", "category", "message"}
    assert "errorId" in by_sku["NOPE"]["errors"][0]
    assert "offerId" not in by_sku["NOPE"]
    assert by_sku["V-M"]["offerId"] == "O-UNKNOWN"
    # Refused entries changed nothing; the others did.
    assert stock(server, "A-1")["quantity"] == 6
    assert stock(server, "D-4")["quantity"] == 2
    assert stock(server, "V-M")["quantity"] == 4
    assert stock(server, "V-L")["quantity"] == 2
    assert offer_row(server, "V-L", "O-VL")["availableQuantity"] == 2
    assert stock(server, "B-2")["quantity"] == 5


def test_more_checks_of_an_entry(server, api):
    answer = api.bulk_update(
        entry("A-1", None, **{"O-B2": 1}),  # an offer of another SKU
        {"sku": "A-1", "offers": [{"offerId": "O-A1"}]},  # neither quantity nor price
        {"offers": [{"offerId": "O-A1", "availableQuantity": 1}] * 2},  # the same offer twice
        entry("B-2", None, **{"O-B2-AUC": 1}),  # an auction has no availableQuantity
        {"shipToLocationAvailability": {"quantity": 1}},  # quantity without a SKU
    )
    assert answer.status_code == 207
    ids = [r["errors"][0]["errorId"] for r in answer.json()["responses"]]
    assert ids == [25002, 25002, 25002, 25002, 25709, 25709]  # twice: one per offer named
    priced = api.post(
        f"{INV}/bulk_update_price_quantity",
        {
            "requests": [
                {"offers": [{"offerId": "O-A1", "price": {"value": "21.5", "currency": "USD"}}]}
            ]
        },
    )
    assert priced.status_code == 200
    assert api.get(f"{INV}/offer", sku="A-1").json()["offers"][0]["pricingSummary"]["price"] == {
        "value": "21.50",
        "currency": "USD",
    }
    bad_price = api.post(
        f"{INV}/bulk_update_price_quantity",
        {
            "requests": [
                {"offers": [{"offerId": "O-A1", "price": {"value": "-1", "currency": "USD"}}]}
            ]
        },
    )
    assert bad_price.json()["responses"][0]["errors"][0]["errorId"] == 25709


def test_a_bulk_update_takes_25_entries_at_most(server, api):
    too_many = api.bulk_update(*[entry("A-1", 1) for _ in range(26)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["errorId"] == 25709
    assert stock(server, "A-1")["quantity"] == 10
    assert api.bulk_update().status_code == 400
    wrong_type = api.bulk_update({"sku": "A-1", "shipToLocationAvailability": {"quantity": "1"}})
    assert wrong_type.json()["errors"][0]["parameters"][0]["value"] == (
        "Could not serialize field [requests.shipToLocationAvailability.quantity]"
    )


def test_one_sku_per_call_when_the_method_page_is_believed(server, api):
    assert api.bulk_update(entry("A-1", 1), entry("D-4", 1)).status_code == 200
    control(server, "PUT", "config", {"bulkUpdateMaxSkus": 1})
    refused = api.bulk_update(entry("A-1", 2), entry("D-4", 2))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["errorId"] == 25002
    assert api.bulk_update(entry("A-1", 2, **{"O-A1": 2})).status_code == 200


def test_an_injected_system_error_fails_one_entry(server, api):
    added = control(server, "POST", f"sellers/{SELLER}/stock-faults", {"sku": "A-1"})
    assert added.status_code == 201
    answer = api.bulk_update(entry("A-1", 3, **{"O-A1": 3}), entry("D-4", 3))
    assert answer.status_code == 207
    failed = answer.json()["responses"][0]
    assert failed["statusCode"] == 500
    assert failed["errors"][0]["errorId"] == 25001
    assert failed["errors"][0]["category"] == "APPLICATION"
    assert stock(server, "A-1")["quantity"] == 10
    assert stock(server, "D-4")["quantity"] == 3
    assert api.bulk_update(entry("A-1", 3, **{"O-A1": 3})).status_code == 200  # used up


def test_the_revision_budget_of_a_listing(server, api, clock):
    control(server, "PUT", "config", {"revisionBudget": 3})
    for quantity in (9, 8, 7):
        assert api.bulk_update(entry("A-1", quantity, **{"O-A1": quantity})).status_code == 200
    unchanged = api.bulk_update(entry("A-1", 7, **{"O-A1": 7}))
    assert unchanged.status_code == 200  # a write that changes nothing is no revision
    assert offer_row(server, "A-1", "O-A1")["revisionsToday"] == 3
    refused = api.bulk_update(entry("A-1", 6, **{"O-A1": 6}))
    assert refused.status_code == 207
    error = refused.json()["responses"][0]["errors"][0]
    assert error["errorId"] == 25002
    assert "revisions" in error["message"]
    assert "tomorrow" in error["message"]
    assert stock(server, "A-1")["quantity"] == 7
    assert api.bulk_update(entry("D-4", 5)).status_code == 200  # no listing, no budget
    clock.advance(24 * 3600)  # the next eBay day (and a new access token)
    assert api_for(server).bulk_update(entry("A-1", 6, **{"O-A1": 6})).status_code == 200


def test_variations_share_their_listings_budget(server, api):
    control(server, "PUT", "config", {"revisionBudget": 2})
    assert api.bulk_update(entry("V-M", 3, **{"O-VM": 3})).status_code == 200
    assert api.bulk_update(entry("V-L", 1, **{"O-VL": 1})).status_code == 200
    assert offer_row(server, "V-M", "O-VM")["revisionsToday"] == 2
    refused = api.bulk_update(entry("V-M", 2, **{"O-VM": 2}))
    assert refused.json()["responses"][0]["errors"][0]["errorId"] == 25002


def test_the_ebay_day_is_pacific_time(server, api, clock):
    control(server, "PUT", "config", {"revisionBudget": 1})
    clock.now = dt.datetime(2026, 7, 1, 6, 59, tzinfo=dt.UTC)  # 23:59 in California
    assert api.bulk_update(entry("A-1", 5, **{"O-A1": 5})).status_code == 200
    clock.advance(120)  # 00:01 Pacific: a new day although UTC is still July 1st
    assert api.bulk_update(entry("A-1", 4, **{"O-A1": 4})).status_code == 200
    assert control(server, "PUT", "config", {"ebayTimezone": "Mars/Base"}).status_code == 400


def test_a_listing_at_zero_goes_out_of_stock_or_ends(server, api):
    assert api.bulk_update(entry("A-1", 0, **{"O-A1": 0})).status_code == 200
    assert offer_row(server, "A-1", "O-A1")["listingStatus"] == "OUT_OF_STOCK"
    assert api.bulk_update(entry("A-1", 2, **{"O-A1": 2})).status_code == 200
    assert offer_row(server, "A-1", "O-A1")["listingStatus"] == "ACTIVE"
    control(server, "PUT", "config", {"outOfStockControl": False})
    assert api.bulk_update(entry("A-1", 0, **{"O-A1": 0})).status_code == 200
    assert offer_row(server, "A-1", "O-A1")["listingStatus"] == "ENDED"
    ended = api.bulk_update(entry("A-1", 3, **{"O-A1": 3}))
    assert ended.json()["responses"][0]["errors"][0]["errorId"] == 25713


def test_the_listing_quantity_rule(server, api):
    assert api.bulk_update(entry("A-1", 4)).status_code == 200  # the item only
    assert offer_row(server, "A-1", "O-A1")["listingQuantity"] == 10  # the offer's wins
    control(server, "PUT", "config", {"listingQuantityRule": "min"})
    assert offer_row(server, "A-1", "O-A1")["listingQuantity"] == 4


# --- orders ------------------------------------------------------------------------------------


def test_an_order_takes_stock_and_reads_like_ebays(server, api, clock):
    placed = place(server, {"sku": "V-M", "quantity": 2}, {"offerId": "O-A1"}, buyer="bob_1")
    assert placed.status_code == 201
    order_id = placed.json()["orderId"]
    assert len(order_id) == 14
    assert order_id[2] == "-"
    assert order_id[8] == "-"
    assert stock(server, "V-M")["quantity"] == 2
    row = offer_row(server, "V-M", "O-VM")
    assert (row["availableQuantity"], row["soldQuantity"]) == (2, 2)
    answer = api.get(f"{ORDERS}/{order_id}")
    assert answer.status_code == 200
    order = answer.json()
    assert order["orderId"] == order_id
    assert order["creationDate"] == "2026-07-01T10:00:00.000Z"
    assert order["lastModifiedDate"] == order["creationDate"]
    assert order["orderFulfillmentStatus"] == "NOT_STARTED"
    assert order["orderPaymentStatus"] == "PAID"
    assert order["cancelStatus"] == {"cancelState": "NONE_REQUESTED", "cancelRequests": []}
    assert order["buyer"]["username"] == "bob_1"
    assert order["pricingSummary"]["total"] == {"value": "40.00", "currency": "USD"}
    vest, clock_line = order["lineItems"]
    assert vest["sku"] == "V-M"
    assert vest["quantity"] == 2
    assert vest["legacyItemId"] == SHARED_LISTING
    assert vest["legacyVariationId"] == "4100001"
    assert vest["title"] == "Vest M"
    assert vest["lineItemFulfillmentStatus"] == "NOT_STARTED"
    assert vest["lineItemCost"] == {"value": "20.00", "currency": "USD"}
    assert "legacyVariationId" not in clock_line
    assert api.get(f"{INV}/offer", sku="V-M").json()["offers"][0]["availableQuantity"] == 2


def test_a_listing_without_sku_gives_lines_without_sku(server, api):
    order_id = place(server, {"legacyItemId": LEGACY_LISTING}).json()["orderId"]
    line = api.get(f"{ORDERS}/{order_id}").json()["lineItems"][0]
    assert "sku" not in line
    assert line["legacyItemId"] == LEGACY_LISTING
    assert line["title"] == "Old poster"


def test_orders_beyond_the_listing_are_refused_unless_oversold(server):
    assert place(server, {"offerId": "O-VL", "quantity": 3}).status_code == 409
    assert place(server, {"offerId": "O-C3"}).status_code == 409  # not a live listing
    assert place(server, {"offerId": "O-VL", "quantity": 3}, allowOversell=True).ok
    assert stock(server, "V-L")["quantity"] == 0
    assert offer_row(server, "V-L", "O-VL")["listingStatus"] == "OUT_OF_STOCK"


def test_an_auction_sale_ends_its_listing(server):
    assert place(server, {"offerId": "O-B2-AUC"}).status_code == 201
    assert offer_row(server, "B-2", "O-B2-AUC")["listingStatus"] == "ENDED"
    assert stock(server, "B-2")["quantity"] == 4


def test_cancelling_gives_stock_back_and_fills_cancel_requests(server, api, clock):
    order_id = place(server, {"sku": "A-1", "quantity": 3}).json()["orderId"]
    assert stock(server, "A-1")["quantity"] == 7
    clock.advance(60)
    requested = control(
        server, "POST", f"sellers/{SELLER}/orders/{order_id}/cancel-request", {"reason": "X"}
    )
    assert requested.json()["cancelState"] == "IN_PROGRESS"
    assert stock(server, "A-1")["quantity"] == 7
    clock.advance(60)
    cancelled = control(server, "POST", f"sellers/{SELLER}/orders/{order_id}/cancel", {})
    assert cancelled.json()["cancelState"] == "CANCELED"
    assert stock(server, "A-1")["quantity"] == 10
    assert offer_row(server, "A-1", "O-A1")["availableQuantity"] == 10
    detail = api.get(f"{ORDERS}/{order_id}").json()
    assert detail["lastModifiedDate"] == "2026-07-01T10:02:00.000Z"
    assert detail["cancelStatus"]["cancelState"] == "CANCELED"
    request = detail["cancelStatus"]["cancelRequests"][0]
    assert request["cancelInitiator"] == "Buyer"
    assert request["cancelRequestState"] == "COMPLETED"
    assert detail["orderPaymentStatus"] == "FULLY_REFUNDED"
    listed = api.get(ORDERS, orderIds=order_id).json()["orders"][0]
    assert listed["cancelStatus"]["cancelRequests"] == []  # only getOrder fills it
    again = control(server, "POST", f"sellers/{SELLER}/orders/{order_id}/cancel", {})
    assert again.status_code == 409


def test_shipping_and_changing_quantities(server, api, clock):
    order_id = place(server, {"offerId": "O-A1"}, {"offerId": "O-B2"}).json()["orderId"]
    lines = control(server, "GET", f"sellers/{SELLER}/orders/{order_id}").json()["lines"]
    changed = control(
        server, "POST", f"sellers/{SELLER}/orders/{order_id}/lines", {"index": 0, "quantity": 4}
    )
    assert changed.status_code == 200
    assert stock(server, "A-1")["quantity"] == 6
    control(
        server,
        "POST",
        f"sellers/{SELLER}/orders/{order_id}/lines",
        {"lineItemId": lines[0]["lineItemId"], "quantity": 2},
    )
    assert stock(server, "A-1")["quantity"] == 8
    clock.advance(10)
    partial = control(
        server,
        "POST",
        f"sellers/{SELLER}/orders/{order_id}/ship",
        {"lineItemIds": [lines[0]["lineItemId"]]},
    )
    assert partial.json()["orderFulfillmentStatus"] == "IN_PROGRESS"
    full = control(server, "POST", f"sellers/{SELLER}/orders/{order_id}/ship", {})
    assert full.json()["orderFulfillmentStatus"] == "FULFILLED"
    order = api.get(f"{ORDERS}/{order_id}").json()
    assert {line["lineItemFulfillmentStatus"] for line in order["lineItems"]} == {"FULFILLED"}
    assert order["lastModifiedDate"] == "2026-07-01T10:00:10.000Z"
    shipped = control(server, "POST", f"sellers/{SELLER}/orders/{order_id}/cancel", {})
    assert shipped.status_code == 409


def test_orders_modified_since_a_date(server, api, clock):
    first = place(server, {"offerId": "O-A1"}).json()["orderId"]
    clock.advance(3600)
    since = clock.now
    second = place(server, {"offerId": "O-A1"}).json()["orderId"]
    clock.advance(3600)
    control(server, "POST", f"sellers/{SELLER}/orders/{first}/ship", {})  # modified again
    clock.advance(60)
    api = api_for(server)  # the first token expired meanwhile
    found = api.get(ORDERS, filter=f"lastmodifieddate:[{stamp(since)}..]").json()
    assert {o["orderId"] for o in found["orders"]} == {first, second}
    until = api.get(
        ORDERS,
        filter=f"lastmodifieddate:[{stamp(since)}..{stamp(since + dt.timedelta(seconds=60))}]",
    ).json()
    assert [o["orderId"] for o in until["orders"]] == [second]
    open_only = api.get(
        ORDERS,
        filter=f"lastmodifieddate:[{stamp(since)}..],orderfulfillmentstatus:{{NOT_STARTED|IN_PROGRESS}}",
    ).json()
    assert [o["orderId"] for o in open_only["orders"]] == [second]
    raw = requests.get(  # the filter percent-encoded by hand, as eBay's docs show it
        f"{server.url}{ORDERS}?filter=lastmodifieddate:%5B{stamp(since)}..%5D,"
        "orderfulfillmentstatus:%7BFULFILLED%7CIN_PROGRESS%7D",
        headers=api.headers(),
        timeout=5,
    ).json()
    assert [o["orderId"] for o in raw["orders"]] == [first]
    created = api.get(ORDERS, filter=f"creationdate:[{stamp(since)}..]").json()
    assert [o["orderId"] for o in created["orders"]] == [second]


def test_order_pages_follow_next(server, api, clock):
    ids = []
    for _ in range(5):
        ids.append(place(server, {"offerId": "O-A1"}).json()["orderId"])
        clock.advance(1)
    first = api.get(ORDERS, limit="2").json()
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert "offset=2" in first["next"]
    seen, url = [], first["href"]
    while url:
        page = api.get(url).json()
        seen += [o["orderId"] for o in page["orders"]]
        url = page.get("next")
    assert seen == ids[::-1]  # newest first
    control(server, "PUT", "config", {"orderSort": "oldest"})
    assert [o["orderId"] for o in api.get(ORDERS).json()["orders"]] == ids
    last = api.get(ORDERS, limit="2", offset="4").json()
    assert "next" not in last
    assert "offset=2" in last["prev"]


def test_order_ids_override_the_filter(server, api):
    order_id = place(server, {"offerId": "O-A1"}).json()["orderId"]
    answer = api.get(ORDERS, orderIds=f"{order_id},99-99999-99999", filter="bogus:1")
    assert answer.status_code == 200
    body = answer.json()
    assert [o["orderId"] for o in body["orders"]] == [order_id]
    assert body["total"] == 1
    assert body["warnings"][0]["errorId"] == 32100
    too_many = api.get(ORDERS, orderIds=",".join(f"0{i}-00000-00000" for i in range(51)))
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["errorId"] == 30900


@pytest.mark.parametrize(
    ("params", "error_id"),
    [
        ({"filter": "orderstatus:{ACTIVE}"}, 30700),
        ({"filter": "lastmodifieddate:[2026-06-01..]"}, 30810),
        ({"filter": "lastmodifieddate:[..2026-06-01T00:00:00.000Z]"}, 30820),
        ({"filter": "lastmodifieddate:2026-06-01T00:00:00.000Z"}, 30800),
        (
            {"filter": "lastmodifieddate:[2026-06-02T00:00:00.000Z..2026-06-01T00:00:00.000Z]"},
            30840,
        ),
        ({"filter": "lastmodifieddate:[2026-08-01T00:00:00.000Z..]"}, 30850),
        ({"filter": "creationdate:[2023-06-01T00:00:00.000Z..]"}, 30830),
        ({"filter": "orderfulfillmentstatus:{NOT_STARTED|FULFILLED}"}, 30800),
        ({"limit": "201"}, 31100),
        ({"limit": "0"}, 31100),
        ({"offset": "-1"}, 31000),
        ({"fieldGroups": "EVERYTHING"}, 32800),
    ],
)
def test_bad_order_searches(server, api, params, error_id):
    answer = api.get(ORDERS, **params)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["errorId"] == error_id
    assert error["domain"] == "API_FULFILLMENT"


def test_without_a_date_only_the_last_90_days(server, api, clock):
    old = place(server, {"offerId": "O-A1"}, creationDate="2026-03-01T00:00:00.000Z").json()
    recent = place(server, {"offerId": "O-A1"}).json()
    default = api.get(ORDERS).json()
    assert [o["orderId"] for o in default["orders"]] == [recent["orderId"]]
    dated = api.get(ORDERS, filter="creationdate:[2026-02-01T00:00:00.000Z..]").json()
    assert {o["orderId"] for o in dated["orders"]} == {old["orderId"], recent["orderId"]}


def test_an_unknown_order_is_404(server, api):
    answer = api.get(f"{ORDERS}/12-34567-89012")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["errorId"] == 32100


def test_generated_orders_lower_stock(server, sandbox):
    before = sum(row["quantity"] or 0 for row in sandbox.stock_rows(SELLER))
    answer = control(server, "POST", "generate", {"count": 6})
    placed = answer.json()["orders"]
    assert len(placed) == 6
    orders = {o["orderId"]: o for o in sandbox.orders_view(SELLER)}
    taken = sum(
        line["quantity"]
        for order_id in placed
        for line in orders[order_id]["lines"]
        if line["sku"] and orders[order_id]["cancelState"] != "CANCELED"
    )
    after = sum(row["quantity"] or 0 for row in sandbox.stock_rows(SELLER))
    assert after == before - taken


# --- the kit: rate limits, faults, call log, persistence ------------------------------------


TOO_MANY_BODY = {
    "errors": [
        {
            "errorId": 2001,
            "domain": "ACCESS",
            "category": "REQUEST",
            "message": "Too many requests. The request limit has been reached for the resource.",
        }
    ]
}


def test_every_endpoint_has_a_name_and_a_rate_limit():
    assert set(DEFAULT_RATE_LIMITS) == set(ENDPOINTS)
    assert {
        "token",
        "inventory.list",
        "inventory.get",
        "inventory.bulk_get",
        "inventory.replace",
        "offer.list",
        "stock.bulk_update",
        "order.search",
        "order.get",
    } <= set(ENDPOINTS)


def test_rate_limit_per_seller_and_endpoint(server, api):
    control(server, "PUT", "rate-limits", {"inventory.get": 1})
    assert api.get(f"{INV}/inventory_item/A-1").status_code == 200
    limited = api.get(f"{INV}/inventory_item/A-1")
    assert limited.status_code == 429
    assert limited.json() == TOO_MANY_BODY
    assert limited.headers["Retry-After"] == "1"
    assert api.get(f"{INV}/inventory_item").status_code == 200  # another endpoint
    calls = control(server, "GET", "calls?endpoint=inventory.get").json()["calls"]
    assert [(c["shop"], c["status"]) for c in calls] == [(SELLER, 200), (SELLER, 429)]


def test_default_rate_limits_refuse_a_burst(clock):
    sandbox = Sandbox(clock=clock)
    sandbox.app_add(client_id=CLIENT_ID, client_secret=SECRET, ru_name=RU_NAME, accept_url=ACCEPT)
    server = SandboxServer(sandbox).start()
    try:
        statuses = [token_post(server, {"grant_type": "password"}).status_code for _ in range(6)]
        assert statuses == [400] * 5 + [429]
        calls = sandbox.calls_matching(shop_id=CLIENT_ID, endpoint="token")
        assert len(calls) == 6
    finally:
        server.stop()


def test_the_daily_quota(server, api, clock):
    control(server, "PUT", "config", {"dailyQuotas": {"fulfillment": 2}})
    assert api.get(ORDERS).status_code == 200
    assert api.get(ORDERS).status_code == 200
    over = api.get(ORDERS)
    assert over.status_code == 429
    assert over.json() == TOO_MANY_BODY
    assert int(over.headers["Retry-After"]) > 3600  # until midnight, eBay time
    assert api.get(f"{INV}/inventory_item").status_code == 200  # another API's quota
    clock.advance(24 * 3600)
    assert api_for(server).get(ORDERS).status_code == 200
    assert control(server, "PUT", "config", {"dailyQuotas": {"nope": 1}}).status_code == 400


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k != "hang"])
def test_each_fault_kind_on_the_stock_update(server, api, kind):
    added = control(server, "POST", "faults", {"endpoint": "stock.bulk_update", "kind": kind})
    assert added.status_code == 201
    faulted = api.bulk_update(entry("A-1", 1, **{"O-A1": 1}))
    expected = {"500": 500, "503": 503, "429": 429, "409": 409, "401": 401, "expired": 401}
    if kind == "malformed":
        assert faulted.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            faulted.json()
    else:
        assert faulted.status_code == expected[kind]
        error_id = faulted.json()["errors"][0]["errorId"]
        assert (
            error_id
            == {
                "500": 25001,
                "503": 2003,
                "429": 2001,
                "409": 25025,
                "401": 1001,
                "expired": 1001,
            }[kind]
        )
    assert stock(server, "A-1")["quantity"] == 10  # a faulted call changed nothing
    assert api.bulk_update(entry("A-1", 1, **{"O-A1": 1})).status_code == 200  # used up
    calls = control(server, "GET", f"calls?shop={SELLER}&endpoint=stock.bulk_update").json()
    assert [c["fault"] for c in calls["calls"]] == [kind, None]


def test_faults_answer_in_the_shape_of_the_api_they_hit(server, api):
    control(server, "POST", "faults", {"endpoint": "*", "kind": "500", "count": 3})
    token = token_post(server, {"grant_type": "password"})
    assert token.status_code == 500
    assert token.json()["error"] == "server_error"
    orders = api.get(ORDERS)
    assert orders.status_code == 500
    assert orders.json()["errors"][0]["errorId"] == 30500
    page = requests.get(consent_url(server), timeout=5)
    assert page.status_code == 500
    assert page.headers["Content-Type"].startswith("text/html")
    control(server, "POST", "faults", {"endpoint": "token", "kind": "401"})
    assert token_post(server, {"grant_type": "password"}).json()["error"] == "invalid_client"
    control(server, "POST", "faults", {"endpoint": "token", "kind": "503"})
    assert token_post(server, {}).json()["error"] == "temporarily_unavailable"


def test_a_fault_can_target_one_seller(server, sandbox, api):
    sandbox.seller_add(username="seller-b", items=[{"sku": "B-ONLY", "quantity": 1}])
    other = api_for(server, "seller-b")
    control(server, "POST", "faults", {"endpoint": "*", "kind": "503", "shop": "seller-b"})
    assert other.get(ORDERS).status_code == 503
    assert api.get(ORDERS).status_code == 200


def test_a_hang_answers_after_the_client_gave_up(server, api):
    control(server, "POST", "faults", {"endpoint": "order.search", "kind": "hang"})
    with pytest.raises(requests.Timeout):
        api.get(ORDERS, timeout=0.3)
    assert api.get(ORDERS).status_code == 200


def test_config_is_read_and_checked(server):
    config = control(server, "GET", "config").json()
    assert config["revisionBudget"] == 250
    assert config["offsetMode"] == "records"
    assert config["tokenLifetime"] == 7200
    assert config["ebayTimezone"] == "America/Los_Angeles"
    assert control(server, "PUT", "config", {"nope": 1}).status_code == 400
    bad = control(server, "PUT", "config", {"offsetMode": "pages", "sizeMode": "rows"})
    assert bad.status_code == 400
    assert control(server, "GET", "config").json()["offsetMode"] == "records"  # all or none


def test_control_api_adds_apps_sellers_items_and_offers(server):
    app = control(
        server,
        "POST",
        "apps",
        {"clientId": "c2", "clientSecret": "s2", "ruName": "r2", "acceptUrl": ACCEPT},
    )
    assert app.status_code == 201
    assert control(server, "GET", "apps").json() == {"apps": [CLIENT_ID, "c2"]}
    seller = control(
        server,
        "POST",
        "sellers",
        {"username": "s2", "marketplaces": ["EBAY_GB"], "items": [{"sku": "Q-1", "quantity": 2}]},
    )
    assert seller.status_code == 201
    assert control(server, "POST", "sellers", {"username": "s2"}).status_code == 409
    item = control(
        server,
        "POST",
        "sellers/s2/items",
        {"sku": "Q-2", "quantity": 3, "offers": [{"availableQuantity": 3, "currency": "GBP"}]},
    )
    assert item.status_code == 201
    assert len(item.json()["offers"]) == 1
    wrong_market = control(
        server, "POST", "sellers/s2/offers", {"sku": "Q-1", "marketplaceId": "EBAY_US"}
    )
    assert wrong_market.status_code == 400
    offer = control(server, "POST", "sellers/s2/offers", {"sku": "Q-1", "status": "UNPUBLISHED"})
    assert offer.status_code == 201
    assert offer.json()["listingId"] is None
    assert control(server, "POST", "sellers/s2/offers", {"sku": "nope"}).status_code == 400
    put = control(server, "PUT", "sellers/s2/stock", {"sku": "Q-2", "quantity": 9})
    assert put.json()["quantity"] == 9
    rows = control(server, "GET", "sellers/s2/stock").json()["stock"]
    assert [(r["sku"], r["quantity"]) for r in rows] == [("Q-1", 2), ("Q-2", 9)]
    item_view = control(server, "GET", "sellers/s2/items/Q-2").json()
    assert item_view["availability"]["shipToLocationAvailability"]["quantity"] == 9
    assert control(server, "GET", "sellers").json() == {"sellers": ["s2", SELLER]}
    assert control(server, "GET", "sellers/nobody/stock").status_code == 404


def test_control_api_refuses_what_ebay_could_not_hold(server):
    orders = f"sellers/{SELLER}/orders"
    refusals = [
        (
            "POST",
            "apps",
            {"clientId": CLIENT_ID, "clientSecret": "x", "ruName": "r", "acceptUrl": "u"},
            409,
        ),
        ("POST", f"sellers/{SELLER}/items", {"sku": "A-1"}, 409),
        ("POST", f"sellers/{SELLER}/items", {"sku": "Y" * 51}, 400),
        ("POST", f"sellers/{SELLER}/items", {"sku": "N-1", "quantity": -1}, 400),
        ("POST", f"sellers/{SELLER}/items", {"sku": "N-2", "offers": [{"format": "BARTER"}]}, 400),
        ("POST", f"sellers/{SELLER}/offers", {"sku": "A-1", "offerId": "O-A1"}, 409),
        (
            "POST",
            f"sellers/{SELLER}/offers",
            {"sku": "A-1", "format": "AUCTION", "availableQuantity": 1},
            400,
        ),
        ("PUT", f"sellers/{SELLER}/stock", {"sku": "nope", "quantity": 1}, 404),
        ("PUT", f"sellers/{SELLER}/stock", {"sku": "A-1", "quantity": -1}, 400),
        ("PUT", f"sellers/{SELLER}/stock", {"sku": "A-1", "offers": {"O-B2": 1}}, 400),
        ("GET", f"sellers/{SELLER}/stock/nope", None, 404),
        ("POST", orders, {"lines": []}, 400),
        ("POST", orders, {"lines": [{"offerId": "nope"}]}, 404),
        ("POST", orders, {"lines": [{"sku": "D-4"}]}, 409),
        ("POST", orders, {"lines": [{"legacyItemId": "999"}]}, 400),
        ("POST", orders, {"lines": [{"offerId": "O-A1", "quantity": 0}]}, 400),
        ("GET", f"{orders}/nope", None, 404),
        ("POST", "tokens", {"clientId": "nope", "seller": SELLER}, 404),
        ("POST", "tokens", {"clientId": CLIENT_ID, "seller": "nobody"}, 404),
        ("POST", "tokens", {"clientId": CLIENT_ID, "seller": SELLER, "scopes": ["x"]}, 400),
        ("POST", "tokens/expire", {"seller": "nobody"}, 404),
        ("POST", "tokens/revoke", {}, 400),
        ("POST", "sellers", {}, 400),
        ("GET", "nothing", None, 404),
        ("PUT", "config", {"revisionBudget": "many"}, 400),
        ("PUT", "config", {"tokenLifetime": 0}, 400),
    ]
    for method, path, body, status in refusals:
        assert control(server, method, path, body).status_code == status, (method, path, body)
    assert stock(server, "A-1")["quantity"] == 10
    new_listing = control(
        server, "POST", orders, {"lines": [{"legacyItemId": "123", "title": "Old lamp"}]}
    )
    assert new_listing.json()["lines"][0]["sku"] is None


def test_order_changes_that_cannot_be(server):
    order_id = place(server, {"offerId": "O-VL"}).json()["orderId"]
    base = f"sellers/{SELLER}/orders/{order_id}"
    assert control(server, "POST", f"{base}/lines", {"index": 0, "quantity": 5}).status_code == 409
    assert control(server, "POST", f"{base}/lines", {"index": 3, "quantity": 1}).status_code == 400
    assert control(server, "POST", f"{base}/lines", {"index": 0, "quantity": 0}).status_code == 400
    assert control(server, "POST", f"{base}/ship", {"lineItemIds": ["x"]}).status_code == 400
    assert control(server, "POST", f"{base}/cancel-request", {}).status_code == 200
    assert control(server, "POST", f"{base}/cancel-request", {}).status_code == 409
    assert control(server, "POST", f"{base}/cancel", {}).status_code == 200
    assert control(server, "POST", f"{base}/ship", {}).status_code == 409
    assert control(server, "POST", f"{base}/lines", {"index": 0, "quantity": 1}).status_code == 409
    assert stock(server, "V-L")["quantity"] == 2


def test_generated_orders_age_shipped_or_cancelled(server, sandbox):
    for _ in range(12):
        control(server, "POST", "generate", {"count": 5})
        control(server, "PUT", f"sellers/{SELLER}/stock", {"sku": "A-1", "quantity": 10})
        control(server, "PUT", f"sellers/{SELLER}/stock", {"sku": "B-2", "quantity": 5})
    orders = sandbox.orders_view(SELLER)
    assert {o["orderFulfillmentStatus"] for o in orders} >= {"NOT_STARTED", "FULFILLED"}
    assert any(o["cancelState"] == "CANCELED" for o in orders)
    assert any(line["sku"] is None for o in orders for line in o["lines"])


def test_state_save_and_load_round_trip(server, sandbox, api, clock, tmp_path):
    grant = connect(server)
    assert api.bulk_update(entry("A-1", 4, **{"O-A1": 4})).status_code == 200
    order_id = place(server, {"sku": "V-M", "quantity": 2}).json()["orderId"]
    control(server, "POST", f"sellers/{SELLER}/orders/{order_id}/cancel", {})
    control(server, "PUT", "config", {"revisionBudget": 7})
    assert control(server, "POST", "save").status_code == 200
    saved = tmp_path / "state.json"
    assert json.loads(saved.read_text())["sellers"][0]["username"] == SELLER

    loaded = Sandbox(rate_limits=FAST, clock=clock)
    assert loaded.load_file(saved)
    assert loaded.dump() == sandbox.dump()
    again = SandboxServer(loaded).start()
    try:
        same = Api(again.url, grant["access_token"])  # tokens survive a restart
        assert same.get(f"{INV}/inventory_item/A-1").json()["availability"] == {
            "shipToLocationAvailability": {"quantity": 4}
        }
        assert same.get(f"{ORDERS}/{order_id}").json()["cancelStatus"]["cancelState"] == "CANCELED"
        assert offer_row(again, "A-1", "O-A1")["revisionsToday"] == 1
        assert control(again, "GET", "config").json()["revisionBudget"] == 7
        refresh = token_post(
            again, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        )
        assert refresh.status_code == 200
        assert place(again, {"offerId": "O-A1"}).json()["orderId"] != order_id
    finally:
        again.stop()
    assert control(server, "POST", "reset").status_code == 200
    assert control(server, "GET", "health").json() == {"ok": True, "sellers": [], "apps": []}


def test_save_needs_a_state_file(server):
    server.state_file = None
    assert control(server, "POST", "save").status_code == 400


# --- demo and command ----------------------------------------------------------------------------


def test_the_demo_seller_carries_the_demo_skus_and_stock(clock):
    from rakuten.sandbox.demo import DEMO_CATALOG

    rakuten = {v["variantId"]: v["quantity"] for item in DEMO_CATALOG for v in item["variants"]}
    rakuten.pop("Gift-MUG-TOWEL")  # the demo's gift set is sold in the Rakuten shops only
    assert {item["sku"]: item["quantity"] for item in DEMO_ITEMS} == rakuten
    sandbox = Sandbox(rate_limits=FAST, clock=clock)
    demo_load(sandbox, accept_url="http://127.0.0.1:9000/cb/")
    demo_load(sandbox)  # idempotent
    assert sandbox.apps[DEMO_CLIENT_ID].accept_url == "http://127.0.0.1:9000/cb/"
    server = SandboxServer(sandbox).start()
    try:
        code = redirect_query(
            requests.post(
                f"{server.url}{AUTHORIZE}?client_id={DEMO_CLIENT_ID}&redirect_uri={DEMO_RU_NAME}"
                f"&response_type=code&scope={quote(' '.join(SCOPES))}",
                data={"seller": DEMO_SELLER, "decision": "agree"},
                allow_redirects=False,
                timeout=5,
            )
        )["code"]
        grant = exchange(
            server,
            code,
            redirect_uri=DEMO_RU_NAME,
            authorization=basic(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        )
        api = Api(server.url, grant.json()["access_token"])
        items = api.get(f"{INV}/inventory_item", limit="200").json()["inventoryItems"]
        quantities = {
            i["sku"]: i["availability"]["shipToLocationAvailability"]["quantity"] for i in items
        }
        assert quantities == rakuten
        mug = api.get(f"{INV}/offer", sku="Mug-WHITE").json()["offers"]
        assert [o["format"] for o in mug] == ["FIXED_PRICE", "AUCTION"]
        shirts = {
            api.get(f"{INV}/offer", sku=sku).json()["offers"][0]["listing"]["listingId"]
            for sku in ("Tshirt-RED-M", "Tshirt-RED-L")
        }
        assert len(shirts) == 1
        assert api.get(f"{INV}/inventory_item/tshirt-red-m").status_code == 404  # case kept
    finally:
        server.stop()


def _manage(*args: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "inventory_site.test_settings"}
    return subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "-u", "manage.py", "ebay_sandbox", "--port", "0", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_command_serves_the_demo_and_saves_its_state(tmp_path):
    state = tmp_path / "ebay.json"
    process = _manage(
        "--demo",
        "--state",
        str(state),
        "--accept-url",
        "http://127.0.0.1:9999/cb/",
        "--token-lifetime",
        "600",
        "--seed",
        "3",
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("eBay sandbox on http://127.0.0.1:"), process.stderr.read()
        url = line.split()[3]  # what sync.sandbox.bench.sandbox_process reads
        assert process.stdout.readline().strip() == f"sellers: {DEMO_SELLER}"
        assert "/oauth2/authorize?client_id=" in process.stdout.readline()
        assert requests.get(url + "/_sandbox/health", timeout=5).json()["sellers"] == [DEMO_SELLER]
        page = requests.post(
            f"{url}{AUTHORIZE}?client_id={DEMO_CLIENT_ID}&redirect_uri={DEMO_RU_NAME}"
            f"&response_type=code&scope={quote(SCOPE_INVENTORY)}&state=s",
            data={"seller": DEMO_SELLER, "decision": "agree"},
            allow_redirects=False,
            timeout=5,
        )
        assert page.headers["Location"].startswith("http://127.0.0.1:9999/cb/?state=s&code=")
        grant = requests.post(
            f"{url}/_sandbox/tokens",
            json={"clientId": DEMO_CLIENT_ID, "seller": DEMO_SELLER},
            timeout=5,
        ).json()
        assert grant["expires_in"] == 600
        api = Api(url, grant["access_token"])
        assert api.bulk_update(entry("Mug-WHITE", 7)).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
    saved = json.loads(state.read_text())
    seller = next(s for s in saved["sellers"] if s["username"] == DEMO_SELLER)
    mug = seller["items"]["Mug-WHITE"]["record"]
    assert mug["availability"]["shipToLocationAvailability"]["quantity"] == 7


def test_the_bench_kit_starts_the_command():
    from sync.sandbox.bench import sandbox_process

    process, url = sandbox_process("ebay_sandbox", "eBay sandbox on")
    try:
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/_sandbox/health", timeout=5).json()["ok"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
