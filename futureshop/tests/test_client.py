"""The futureshop client against `responses`: auth, batching, paging and every error kind."""

import base64
import datetime as dt
import json
import logging
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from futureshop.client import ENDPOINTS, FutureshopClient
from futureshop.errors import (
    FutureshopAuthError,
    FutureshopBadRequest,
    FutureshopBusy,
    FutureshopError,
    FutureshopMalformed,
    FutureshopRequestInvalid,
    FutureshopServerError,
    FutureshopTimeout,
)
from futureshop.types import JST, InventoryEntry, Order, OrderLine, StockUpdate
from sync.errors import (
    PlatformAuthError,
    PlatformBadRequest,
    PlatformBusy,
    PlatformError,
    PlatformMalformed,
    PlatformServerError,
    PlatformTimeout,
)
from sync.ratelimit import RateLimiter

SAMPLES = Path("/work/shared/platforms/futureshop-samples")
DOMAIN = "api.example-fs.jp"  # the samples' nextUrl host; answered by responses
BASE = f"https://{DOMAIN}"
TOKEN = f"{BASE}/oauth/token"
INVENTORY = f"{BASE}/admin-api/v1/inventory"
SHIPPING = f"{BASE}/admin-api/v1/shipping"
ORDER = f"{BASE}/admin-api/v1/orders/100000020732"
SHOP_KEY = "shopkey-SECRET-123"
CLIENT_ID = "client-ID-456"
CLIENT_SECRET = "client-SECRET-789"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
ACCESS = "access-TOKEN-abc"
SUCCESS = {"status": "success", "results": [{"status": "success", "productNo": "gd1"}]}


def sample(name):
    return json.loads((SAMPLES / name).read_text())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(sleeps, clock):
    return FutureshopClient(
        api_domain=DOMAIN,
        shop_key=SHOP_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_per_second=0,
        limiter=RateLimiter(),
        label="fs-test",
        sleep=sleeps.append,
        clock=clock,
    )


def token_ok(token=ACCESS, expires_in=3600):
    responses.post(
        TOKEN, json={"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )


def api_calls():
    return [call for call in responses.calls if not call.request.url.startswith(TOKEN)]


def token_calls():
    return [call for call in responses.calls if call.request.url.startswith(TOKEN)]


def sent_body(call):
    return json.loads(call.request.body)


# --- auth ----------------------------------------------------------------------------------


@responses.activate
def test_token_is_fetched_once_and_sent_as_bearer_with_the_shop_key(client):
    responses.post(
        TOKEN,
        json={"access_token": ACCESS, "token_type": "bearer", "expires_in": 3600},
        match=[
            matchers.header_matcher({"Authorization": BASIC, "X-SHOP-KEY": SHOP_KEY}),
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials"}),
        ],
    )
    responses.post(INVENTORY, json=SUCCESS)
    responses.get(INVENTORY, json={"productList": []})
    client.inventory_update([StockUpdate("gd1", "01", "", 5)])
    list(client.inventory_search(["gd1"]))
    assert len(token_calls()) == 1
    assert len(api_calls()) == 2
    for call in api_calls():
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS}"
        assert call.request.headers["X-SHOP-KEY"] == SHOP_KEY


@responses.activate(registry=OrderedRegistry)
def test_token_is_fetched_again_60_seconds_before_it_expires(client, clock):
    responses.post(TOKEN, json={"access_token": "t1", "expires_in": 600})
    responses.post(TOKEN, json={"access_token": "t2", "expires_in": 600})
    assert client.token() == "t1"
    clock.now += 539
    assert client.token() == "t1"
    clock.now += 1
    assert client.token() == "t2"
    assert len(token_calls()) == 2


@responses.activate(registry=OrderedRegistry)
def test_a_401_fetches_a_new_token_once_and_repeats_the_call(client):
    token_ok("old")
    responses.get(ORDER, status=401, json={"errors": [{"code": "Unauthorized"}]})
    token_ok("new")
    responses.get(ORDER, json=sample("order_detail_100000020732.json"))
    assert client.order_get("100000020732").order_no == "100000020732"
    assert [c.request.headers["Authorization"] for c in api_calls()] == [
        "Bearer old",
        "Bearer new",
    ]
    assert len(token_calls()) == 2


@responses.activate(registry=OrderedRegistry)
def test_a_second_401_is_an_auth_error(client, sleeps):
    token_ok("old")
    responses.get(ORDER, status=401)
    token_ok("new")
    responses.get(ORDER, status=401)
    with pytest.raises(PlatformAuthError) as caught:
        client.order_get("100000020732")
    assert isinstance(caught.value, FutureshopAuthError)
    assert len(api_calls()) == 2
    assert sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403])
@responses.activate
def test_a_refused_token_call_is_an_auth_error_and_no_api_call_is_made(client, status):
    responses.post(TOKEN, status=status, json={"error": "invalid_client"})
    with pytest.raises(FutureshopAuthError):
        client.inventory_update([StockUpdate("gd1", "01", "", 5)])
    assert api_calls() == []
    assert len(token_calls()) == 1


@responses.activate
def test_a_token_answer_without_access_token_is_malformed(client):
    responses.post(TOKEN, json={"token_type": "bearer"})
    with pytest.raises(FutureshopMalformed):
        client.token()


# --- inventory update ------------------------------------------------------------------------


@responses.activate
def test_updates_are_grouped_per_product_with_counts_as_numbers(client):
    token_ok()
    responses.post(
        INVENTORY,
        json={
            "status": "success",
            "results": [
                {"status": "success", "productNo": "gd1"},
                {"status": "success", "productNo": "gd3"},
            ],
        },
    )
    result = client.inventory_update(
        [
            StockUpdate("gd1", "01", "", 5),
            StockUpdate("gd3", "01", "01", 0),
            StockUpdate("gd1", "02", "", 999_999_999),
        ]
    )
    assert result.ok
    assert result.failed_products == {}
    (call,) = api_calls()
    assert call.request.headers["Content-Type"] == "application/json"
    assert sent_body(call) == {
        "productList": [
            {
                "productNo": "gd1",
                "inventoryInfo": {
                    "regular": {
                        "inventoryList": [
                            {"verticalNo": "01", "horizontalNo": "", "count": 5},
                            {"verticalNo": "02", "horizontalNo": "", "count": 999_999_999},
                        ]
                    }
                },
            },
            {
                "productNo": "gd3",
                "inventoryInfo": {
                    "regular": {
                        "inventoryList": [{"verticalNo": "01", "horizontalNo": "01", "count": 0}]
                    }
                },
            },
        ]
    }
    # JSON Numbers, never strings ("9", "+1"): absolute counts only.
    assert b'"count": 5' in call.request.body
    assert b'"count": "' not in call.request.body


@responses.activate
def test_updates_are_split_at_100_products_and_results_merged(client):
    token_ok()

    def answer(request):
        products = [p["productNo"] for p in json.loads(request.body)["productList"]]
        results = [{"status": "success", "productNo": p} for p in products]
        if "p149" in products:
            results[-1] = {
                "status": "failed",
                "productNo": "p149",
                "code": "ProductNotFound",
                "message": "指定された商品が登録されていません",
            }
            body = {"status": "failed", "errors": [{"code": "ErrorsPresent"}], "results": results}
        else:
            body = {"status": "success", "results": results}
        return 200, {}, json.dumps(body)

    responses.add_callback(responses.POST, INVENTORY, callback=answer)
    updates = [StockUpdate(f"p{n}", "", "", n) for n in range(150)]
    updates.append(StockUpdate("p0", "01", "", 1))  # a second SKU of the first product
    result = client.inventory_update(updates)
    sizes = [len(sent_body(call)["productList"]) for call in api_calls()]
    assert sizes == [100, 50]
    first = sent_body(api_calls()[0])["productList"][0]
    assert len(first["inventoryInfo"]["regular"]["inventoryList"]) == 2
    assert len(result.results) == 150
    assert result.status == "failed"
    assert result.error_codes == ("ErrorsPresent",)
    assert result.failed_products == {"p149": "ProductNotFound: 指定された商品が登録されていません"}


@pytest.mark.parametrize(
    ("update", "code", "path"),
    [
        (StockUpdate("gd1", "", "", 1_000_000_000), "OutOfRange", "updates[1].count"),
        (StockUpdate("gd1", "", "", -1), "OutOfRange", "updates[1].count"),
        (StockUpdate("gd1", "", "", "+1"), "InvalidFormat", "updates[1].count"),
        (StockUpdate("gd1", "", "", True), "InvalidFormat", "updates[1].count"),
        (StockUpdate("gd1", "", "", 1.0), "InvalidFormat", "updates[1].count"),
        (StockUpdate("あ" * 11, "", "", 1), "TooLong", "updates[1].productNo"),  # 33 bytes
        (StockUpdate("", "", "", 1), "Required", "updates[1].productNo"),
        (StockUpdate("gd1", "0123456789", "", 1), "TooLong", "updates[1].verticalNo"),
        (StockUpdate("gd1", "", "色" * 4, 1), "TooLong", "updates[1].horizontalNo"),
        (StockUpdate("gd1", None, "", 1), "InvalidFormat", "updates[1].verticalNo"),
        (StockUpdate("gd9", "01", "", 3), "DuplicatedStock", "updates[1]"),
    ],
)
@responses.activate
def test_invalid_updates_are_refused_before_any_call(client, update, code, path):
    with pytest.raises(FutureshopRequestInvalid) as caught:
        client.inventory_update([StockUpdate("gd9", "01", "", 2), update])
    assert isinstance(caught.value, PlatformBadRequest)
    assert isinstance(caught.value, ValueError)
    (detail,) = caught.value.details
    assert (detail.code, detail.path, detail.row) == (code, path, 1)
    assert path in str(caught.value)
    assert len(responses.calls) == 0


def test_the_limits_themselves_are_accepted(client):
    from futureshop.client import check_updates

    assert check_updates([StockUpdate("x" * 32, "v" * 9, "あいう", 999_999_999)]) == []
    assert check_updates([StockUpdate("x", "", "", 0)]) == []


@responses.activate
def test_an_empty_update_is_refused(client):
    with pytest.raises(FutureshopRequestInvalid):
        client.inventory_update([])
    assert len(responses.calls) == 0


@pytest.mark.parametrize("http", [200, 400])
@responses.activate
def test_partial_failure_is_returned_not_raised(client, http):
    token_ok()
    responses.post(
        INVENTORY,
        status=http,
        json={
            "status": "failed",
            "errors": [{"code": "ErrorsPresent", "message": "エラーが発生しました"}],
            "results": [
                {
                    "status": "failed",
                    "productNo": "gd1",
                    "code": "StockNotFound",
                    "message": "指定された在庫が登録されていません",
                },
                {
                    "status": "failed",
                    "productNo": "gd2",
                    "code": "NotManagementSettings",
                    "message": "指定商品は、在庫管理を行わない設定になっています",
                },
                {"status": "success", "productNo": "gd3"},
            ],
        },
    )
    result = client.inventory_update(
        [
            StockUpdate("gd1", "01", "", 1),
            StockUpdate("gd2", "", "", 1),
            StockUpdate("gd3", "", "", 1),
        ]
    )
    assert not result.ok
    assert result.failed_products == {
        "gd1": "StockNotFound: 指定された在庫が登録されていません",
        "gd2": "NotManagementSettings: 指定商品は、在庫管理を行わない設定になっています",
    }
    assert result.error_codes == ("ErrorsPresent",)
    assert len(api_calls()) == 1


@responses.activate
def test_a_product_missing_from_a_failed_answer_counts_as_failed(client):
    token_ok()
    responses.post(
        INVENTORY,
        json={
            "status": "failed",
            "errors": [{"code": "ErrorsPresent"}],
            "results": [{"status": "failed", "productNo": "gd1", "code": "StockNotFound"}],
        },
    )
    result = client.inventory_update([StockUpdate("gd1", "", "", 1), StockUpdate("gd2", "", "", 1)])
    assert set(result.failed_products) == {"gd1", "gd2"}
    assert result.failed_products["gd1"] == "StockNotFound"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"[1, 2]",
        b'{"status": "failed", "errors": [{"code": "ErrorsPresent"}]}',
        b'{"status": "failed", "errors": [{"code": "ErrorsPresent"}], "results": []}',
        b'{"status": "success"}',
        b'{"results": [{"status": "success", "productNo": "gd1"}]}',
        b'{"status": "success", "results": {"productNo": "gd1"}}',
    ],
)
@responses.activate
def test_malformed_update_answers_raise_malformed(client, body):
    token_ok()
    responses.post(INVENTORY, body=body, content_type="application/json")
    with pytest.raises(FutureshopMalformed) as caught:
        client.inventory_update([StockUpdate("gd1", "", "", 1)])
    assert isinstance(caught.value, PlatformMalformed)
    assert "nothing is counted as set" in str(caught.value)
    assert len(api_calls()) == 1


@pytest.mark.parametrize(
    ("http", "body", "code"),
    [
        (
            400,
            {"status": "failed", "errors": [{"code": "WrongFormat", "message": "not json"}]},
            "WrongFormat",
        ),
        (
            200,
            {
                "status": "failed",
                "errors": [{"code": "ErrorsPresent"}],
                "results": [{"status": "failed", "code": "TooMany", "message": "100件まで"}],
            },
            "TooMany",
        ),
        (400, {"message": "bad"}, None),
    ],
)
@responses.activate
def test_top_level_refusals_are_bad_requests_with_their_codes(client, http, body, code):
    token_ok()
    responses.post(INVENTORY, status=http, json=body)
    with pytest.raises(FutureshopBadRequest) as caught:
        client.inventory_update([StockUpdate("gd1", "", "", 1)])
    assert isinstance(caught.value, PlatformBadRequest)
    if code:
        assert code in caught.value.codes
    assert len(api_calls()) == 1  # never retried


@responses.activate(registry=OrderedRegistry)
def test_a_later_request_failing_names_the_products_already_set(client):
    token_ok()
    responses.post(INVENTORY, json={"status": "success", "results": []})
    responses.post(INVENTORY, status=400, json={"errors": [{"code": "WrongFormat"}]})
    with pytest.raises(FutureshopBadRequest) as caught:
        client.inventory_update([StockUpdate(f"p{n}", "", "", 1) for n in range(101)])
    assert len(caught.value.applied) == 100


# --- retries ---------------------------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_429_with_retry_after_then_success(client, sleeps):
    token_ok()
    responses.post(INVENTORY, status=429, headers={"Retry-After": "7"})
    responses.post(INVENTORY, json=SUCCESS)
    assert client.inventory_update([StockUpdate("gd1", "", "", 1)]).ok
    assert sleeps == [7.0]
    assert len(api_calls()) == 2
    # The same absolute body both times.
    assert api_calls()[0].request.body == api_calls()[1].request.body


@responses.activate
def test_persistent_429_is_platform_busy_with_retry_after(client, sleeps):
    token_ok()
    responses.post(INVENTORY, status=429, headers={"Retry-After": "3"})
    with pytest.raises(PlatformBusy) as caught:
        client.inventory_update([StockUpdate("gd1", "", "", 1)])
    assert isinstance(caught.value, FutureshopBusy)
    assert caught.value.retry_after == 3.0
    assert sleeps == [3.0, 3.0, 4.0]


@responses.activate
def test_5xx_is_retried_with_backoff_then_raised(client, sleeps):
    token_ok()
    responses.get(ORDER, status=503, body="<html>busy</html>")
    with pytest.raises(PlatformServerError) as caught:
        client.order_get("100000020732")
    assert isinstance(caught.value, FutureshopServerError)
    assert caught.value.retryable
    assert len(api_calls()) == 4
    assert sleeps == [1.0, 2.0, 4.0]


@responses.activate(registry=OrderedRegistry)
def test_5xx_then_success(client, sleeps):
    token_ok()
    responses.post(INVENTORY, status=500)
    responses.post(INVENTORY, status=502)
    responses.post(INVENTORY, json=SUCCESS)
    assert client.inventory_update([StockUpdate("gd1", "", "", 1)]).ok
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_timeouts_are_retried_then_raised_as_platform_timeout(client, sleeps):
    token_ok()
    responses.post(INVENTORY, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(PlatformTimeout) as caught:
        client.inventory_update([StockUpdate("gd1", "", "", 1)])
    assert isinstance(caught.value, FutureshopTimeout)
    assert len(api_calls()) == 4


@responses.activate
def test_a_dropped_connection_is_a_server_error(client, sleeps):
    token_ok()
    responses.get(ORDER, body=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(FutureshopServerError, match="ConnectionError"):
        client.order_get("100000020732")
    assert len(api_calls()) == 4


@responses.activate
def test_a_400_is_never_retried(client, sleeps):
    token_ok()
    responses.get(ORDER, status=400, json={"errors": [{"code": "Bad", "message": "no"}]})
    with pytest.raises(FutureshopBadRequest):
        client.order_get("100000020732")
    assert len(api_calls()) == 1
    assert sleeps == []


def test_every_error_is_a_platform_error():
    for cls in (
        FutureshopAuthError,
        FutureshopBadRequest,
        FutureshopBusy,
        FutureshopMalformed,
        FutureshopRequestInvalid,
        FutureshopServerError,
        FutureshopTimeout,
    ):
        assert issubclass(cls, FutureshopError)
        assert issubclass(cls, PlatformError)


@responses.activate
def test_each_endpoint_is_rate_limited_per_shop(sleeps, clock):
    calls = []

    class Recorder(RateLimiter):
        def acquire(self, shop, endpoint, per_second):
            calls.append((shop, endpoint, per_second))
            return super().acquire(shop, endpoint, 0)

    client = FutureshopClient(
        api_domain=DOMAIN,
        shop_key=SHOP_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        rate_per_second={"inventory.update": 2.0},
        limiter=Recorder(),
        sleep=sleeps.append,
    )
    token_ok()
    responses.post(INVENTORY, json=SUCCESS)
    client.inventory_update([StockUpdate("gd1", "", "", 1)])
    assert [(endpoint, rate) for _shop, endpoint, rate in calls] == [
        ("token", 1.0),
        ("inventory.update", 2.0),
    ]
    assert SHOP_KEY not in calls[0][0]
    assert set(ENDPOINTS) >= {"token", "inventory.update", "inventory.search"}


# --- inventory search ----------------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_inventory_search_follows_next_url(client):
    token_ok()
    page1 = sample("inventory_search_page1.json")
    responses.get(
        INVENTORY,
        json=page1,
        match=[matchers.query_param_matcher({"types": "regular"})],
    )
    responses.get(page1["nextUrl"], json=sample("inventory_search_page2.json"))
    totals = []
    entries = list(client.inventory_search(on_total=totals.append))
    assert len(api_calls()) == 2
    assert api_calls()[1].request.url == page1["nextUrl"]
    assert entries[0] == InventoryEntry(
        "889f61a923e74bc9f220d0d4eba55fe0", "030300510000", "", "", "", 0
    )
    gd1 = [e for e in entries if e.product_no == "gd1"]
    # Regular stock only (gd1 also has preorder and planned stock).
    assert [(e.sku_no, e.vertical_no, e.count) for e in gd1] == [
        ("gd1rd", "01", 5),
        ("gd1bl", "02", 3),
    ]
    assert [e.jan_code for e in entries if e.product_no == "gd64"] == ["4901234567894"]
    assert len(entries) == 1 + 1 + 4 + 4 + 2 + 1 + 2 + 1 + 1
    assert totals == []  # the captures carry no total


@responses.activate
def test_inventory_search_splits_product_numbers_at_100(client):
    token_ok()
    responses.get(INVENTORY, json={"productList": []})
    totals = []
    numbers = [f"p{n}" for n in range(250)] + ["p0"]
    assert list(client.inventory_search(numbers, on_total=totals.append)) == []
    sent = [call.request.params for call in api_calls()]
    assert [len(params["productNo"].split(",")) for params in sent] == [100, 100, 50]
    assert all(params["types"] == "regular" for params in sent)
    assert "productNo=p0,p1," in api_calls()[0].request.url  # commas as documented
    assert totals == [250]


def test_inventory_search_checks_product_numbers_before_any_call(client):
    with pytest.raises(FutureshopRequestInvalid):
        client.inventory_search(["ok", "x" * 33])


@responses.activate
def test_a_next_url_on_another_host_is_refused(client):
    token_ok()
    page = sample("inventory_search_page1.json")
    page["nextUrl"] = "https://evil.example.com/admin-api/v1/inventory?cursor=x"
    responses.get(INVENTORY, json=page)
    with pytest.raises(FutureshopMalformed, match="another host"):
        list(client.inventory_search())
    assert len(api_calls()) == 1


@responses.activate
def test_a_next_url_that_repeats_a_page_is_refused(client):
    token_ok()
    page = sample("inventory_search_page1.json")
    page["nextUrl"] = f"{INVENTORY}?types=regular"
    responses.get(INVENTORY, json=page)
    with pytest.raises(FutureshopMalformed, match="repeats"):
        list(client.inventory_search())


@responses.activate
def test_an_inventory_page_without_product_list_is_malformed(client):
    token_ok()
    responses.get(INVENTORY, json={"items": []})
    with pytest.raises(FutureshopMalformed):
        list(client.inventory_search(["gd1"]))


# --- orders ----------------------------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_shipping_search_follows_next_url_and_sends_japan_time(client):
    token_ok()
    page1 = sample("shipping_search_page1.json")
    responses.get(
        SHIPPING,
        json=page1,
        match=[
            matchers.query_param_matcher(
                {"orderDateStart": "2021-07-01T00:00:00", "orderDateEnd": "2021-07-31T23:59:59"}
            )
        ],
    )
    responses.get(page1["nextUrl"], json=sample("shipping_search_page2.json"))
    start = dt.datetime(2021, 6, 30, 15, 0, tzinfo=dt.UTC)  # 2021-07-01 00:00 JST
    end = dt.datetime(2021, 7, 31, 23, 59, 59, tzinfo=JST)
    assert client.shipping_search(start, end) == ["100000001190", "100000002505", "100000020732"]
    assert len(api_calls()) == 2


def test_shipping_search_needs_aware_datetimes_in_order(client):
    with pytest.raises(FutureshopRequestInvalid):
        client.shipping_search(dt.datetime(2021, 7, 1), dt.datetime(2021, 7, 2))
    with pytest.raises(FutureshopRequestInvalid):
        client.shipping_search(
            dt.datetime(2021, 7, 2, tzinfo=JST), dt.datetime(2021, 7, 1, tzinfo=JST)
        )


@responses.activate
def test_order_detail_is_parsed_from_the_sample(client):
    token_ok()
    responses.get(ORDER, json=sample("order_detail_100000020732.json"))
    order = client.order_get("100000020732")
    assert order == Order(
        order_no="100000020732",
        status="AWAITING_PAYMENT",
        ordered_at=dt.datetime(2021, 7, 7, 21, 16, 17, tzinfo=JST),
        updated_at=dt.datetime(2021, 7, 7, 21, 16, 17, tzinfo=JST),
        lines=(OrderLine("gd4", "gd4vintagelavender", 4, "0:0:gd4:gd4vintagelavender"),),
    )


@responses.activate
def test_order_lines_use_a_line_id_when_there_is_one(client):
    token_ok()
    body = sample("order_detail_100000020732.json")
    line = body["shipmentList"][0]["productList"][0]
    body["shipmentList"].append({"productList": [dict(line, id=77, count="2")]})
    responses.get(ORDER, json=body)
    order = client.order_get("100000020732")
    assert [(line.line_key, line.count) for line in order.lines] == [
        ("0:0:gd4:gd4vintagelavender", 4),
        ("77", 2),
    ]


@responses.activate
def test_an_unknown_order_is_none(client):
    token_ok()
    responses.get(f"{BASE}/admin-api/v1/orders/nope%2F1", status=404)
    assert client.order_get("nope/1") is None


@responses.activate
def test_a_malformed_order_is_a_typed_error(client):
    token_ok()
    responses.get(ORDER, json={"orderNo": "100000020732", "shipmentList": [{"productList": [{}]}]})
    with pytest.raises(FutureshopMalformed, match=r"order\.get"):
        client.order_get("100000020732")


# --- secrets ---------------------------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_credentials_and_tokens_never_show_in_logs_reprs_or_errors(client, caplog):
    caplog.set_level(logging.DEBUG)
    token_ok()
    responses.post(INVENTORY, json=SUCCESS)
    responses.get(ORDER, status=401)
    responses.post(TOKEN, status=401, json={"error": "invalid_client", "secret": CLIENT_SECRET})
    client.inventory_update([StockUpdate("gd1", "", "", 1)])
    with pytest.raises(FutureshopAuthError) as caught:
        client.order_get("100000020732")
    seen = caplog.text + repr(client) + str(caught.value) + repr(caught.value)
    assert "futureshop fs-test inventory.update -> 200 in" in caplog.text
    assert "futureshop fs-test order.get -> 401 in" in caplog.text
    for secret in (SHOP_KEY, CLIENT_ID, CLIENT_SECRET, ACCESS, BASIC.split()[1]):
        assert secret not in seen


def test_a_client_needs_every_credential():
    with pytest.raises(FutureshopRequestInvalid, match="client_secret"):
        FutureshopClient(api_domain=DOMAIN, shop_key="k", client_id="i", client_secret="")


def _store(credentials, api_config=None):
    from stores.crypto import encrypt_credentials
    from stores.models import Store

    return Store(
        store_id="fs-1",
        store_name="futureshop shop",
        platform_type="futureshop",
        api_config=api_config or {},
        credentials_encrypted=encrypt_credentials(credentials),
    )


CREDENTIALS = {
    "api_domain": DOMAIN,
    "shop_key": SHOP_KEY,
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
}


@responses.activate
def test_for_store_reads_credentials_settings_and_the_sandbox_override(settings):
    settings.FUTURESHOP_TIMEOUT = (2.0, 9.0)
    settings.FUTURESHOP_RATE_LIMITS = {"order.get": 4}
    settings.FUTURESHOP_MAX_RETRIES = 1
    settings.FUTURESHOP_BACKOFF_BASE = 0.5
    client = FutureshopClient.for_store(_store(CREDENTIALS))
    assert client.base_url == BASE
    assert client.label == "fs-1"
    assert client.timeout == (2.0, 9.0)
    assert client.rate_limits["order.get"] == 4
    assert client.rate_limits["inventory.update"] == 1.0
    assert (client.max_retries, client.backoff_base) == (1, 0.5)

    sandbox = FutureshopClient.for_store(
        _store(CREDENTIALS, {"base_url": "http://127.0.0.1:8765/"}), limiter=RateLimiter()
    )
    assert sandbox.base_url == "http://127.0.0.1:8765"
    responses.post("http://127.0.0.1:8765/oauth/token", json={"access_token": "t"})
    assert sandbox.token() == "t"


def test_for_store_without_settings_uses_the_defaults(settings):
    for name in ("FUTURESHOP_TIMEOUT", "FUTURESHOP_RATE_LIMITS", "FUTURESHOP_MAX_RETRIES"):
        if hasattr(settings, name):
            delattr(settings, name)
    client = FutureshopClient.for_store(_store(CREDENTIALS))
    assert client.timeout == (5.0, 30.0)
    assert client.rate_limits["inventory.update"] == 1.0
    assert client.max_retries == 3


def test_for_store_names_missing_credentials_without_values():
    credentials = dict(CREDENTIALS, client_id="", shop_key="")
    with pytest.raises(FutureshopRequestInvalid) as caught:
        FutureshopClient.for_store(_store(credentials))
    message = str(caught.value)
    assert "shop_key" in message
    assert "client_id" in message
    assert CLIENT_SECRET not in message
