"""Every client method against `responses`: shapes, batching and every error kind."""

import datetime as dt
import json

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from rakuten.client import RmsClient
from rakuten.endpoints import DEFAULT_RATE_LIMITS
from rakuten.errors import (
    RmsAuthError,
    RmsBadRequest,
    RmsMalformedResponse,
    RmsNotFound,
    RmsRateLimited,
    RmsRequestInvalid,
    RmsTimeout,
)
from rakuten.types import JST, InventoryMode, InventoryUpdate, VariantKey
from sync.ratelimit import RateLimiter

BASE = "https://api.rms.rakuten.co.jp"  # answered by responses: nothing leaves the machine
SEARCH = f"{BASE}/es/2.0/order/searchOrder/"
GET = f"{BASE}/es/2.0/order/getOrder/"
CONFIRM = f"{BASE}/es/2.0/order/confirmOrder/"
BULK_GET = f"{BASE}/es/2.0/inventories/bulk-get"
BULK_UPSERT = f"{BASE}/es/2.0/inventories/bulk-upsert"
VARIANT = f"{BASE}/es/2.0/inventories/manage-numbers/tshirt/variants/Tshirt-RED-M"
ITEMS = f"{BASE}/es/2.0/items/search"
EXPIRY = f"{BASE}/es/1.0/license-management/license-key/expiry-date"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=JST)
# base64("SP1:SL1")
AUTH = "ESA U1AxOlNMMQ=="


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    return RmsClient(
        service_secret="SP1",
        license_key="SL1",
        base_url=BASE + "/",
        limiter=RateLimiter(),
        rate_limits=dict.fromkeys(DEFAULT_RATE_LIMITS, 0),
        sleep=sleeps.append,
    )


def order_body(number, progress=100, **extra):
    return {
        "orderNumber": number,
        "orderProgress": progress,
        "orderDatetime": "2026-11-22T10:00:00+0900",
        "modifyFlag": 0,
        "PackageModelList": [
            {
                "packageDeleteFlag": 0,
                "ItemModelList": [
                    {
                        "itemDetailId": 1,
                        "manageNumber": "tshirt",
                        "itemNumber": "T-1",
                        "units": 2,
                        "price": 1000,
                        "deleteItemFlag": 0,
                        "restoreInventoryFlag": 1,
                        "SkuModelList": [
                            {"variantId": "Tshirt-RED-M", "merchantDefinedSkuId": None}
                        ],
                    }
                ],
            }
        ],
        **extra,
    }


# --- requests on the wire -------------------------------------------------------


@responses.activate
def test_search_sends_the_documented_request(client):
    expected = {
        "dateType": 1,
        "startDatetime": "2026-11-21T12:00:00+0900",
        "endDatetime": "2026-11-22T12:00:00+0900",
        "orderProgressList": [100, 300],
        "PaginationRequestModel": {
            "requestRecordsAmount": 1000,
            "requestPage": 1,
            "SortModelList": [{"sortColumn": 1, "sortDirection": 1}],
        },
    }
    responses.post(
        SEARCH,
        json={
            "orderNumberList": ["a-1"],
            "PaginationResponseModel": {"totalRecordsAmount": 1, "totalPages": 1, "requestPage": 1},
        },
        match=[
            matchers.json_params_matcher(expected),
            matchers.header_matcher(
                {"Authorization": AUTH, "Content-Type": "application/json;charset=utf-8"}
            ),
        ],
    )
    # UTC input is sent as Japan time.
    start = (NOW - dt.timedelta(days=1)).astimezone(dt.UTC)
    result = client.search_orders(start, NOW, statuses=[300, 100, 100], now=NOW)
    assert result.order_numbers == ["a-1"]


@pytest.mark.parametrize(
    "order_number_list",
    [
        ["a-1", "a-2"],
        "a-1",
        {"orderNumber": "a-1"},
        [{"orderNumber": "a-1"}, {"orderNumber": "a-2"}],
    ],
)
@responses.activate
def test_search_accepts_every_shape_of_order_number_list(client, order_number_list):
    responses.post(SEARCH, json={"orderNumberList": order_number_list})
    result = client.search_orders(NOW - dt.timedelta(hours=1), NOW, now=NOW)
    assert result.order_numbers[0] == "a-1"
    assert result.total == len(result.order_numbers)


@responses.activate
def test_search_reports_truncation_past_15000(client):
    for page in (1, 2):
        responses.post(
            SEARCH,
            json={
                "orderNumberList": [f"p{page}-{i}" for i in range(1000)],
                "PaginationResponseModel": {
                    "totalRecordsAmount": 16_500,
                    "totalPages": 17,
                    "requestPage": page,
                },
            },
        )
    # Pretend the rest of the pages are short to keep the test small.
    responses.post(
        SEARCH,
        json={
            "orderNumberList": [],
            "PaginationResponseModel": {
                "totalRecordsAmount": 16_500,
                "totalPages": 17,
                "requestPage": 3,
            },
        },
    )
    result = client.search_orders(NOW - dt.timedelta(hours=1), NOW, now=NOW)
    assert result.truncated
    assert len(result.order_numbers) == 2000


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (NOW, NOW - dt.timedelta(seconds=1), "ends before"),
        (NOW - dt.timedelta(days=64), NOW, "63 days"),
        (NOW - dt.timedelta(days=731), NOW - dt.timedelta(days=700), "730 days"),
        (NOW.replace(tzinfo=None), NOW, "timezone-aware"),
    ],
)
@responses.activate
def test_search_windows_rms_would_refuse_are_refused_first(client, start, end, message):
    with pytest.raises(RmsRequestInvalid, match=message):
        client.search_orders(start, end, now=NOW)
    assert len(responses.calls) == 0


@responses.activate
def test_get_orders_reads_the_nested_shape_and_skips_prices(client):
    deleted_package = order_body("a-2")
    deleted_package["PackageModelList"][0]["packageDeleteFlag"] = 1
    responses.post(
        GET,
        json={
            "MessageModelList": [
                {
                    "messageType": "INFO",
                    "messageCode": "ORDER_EXT_API_GET_ORDER_INFO_101",
                    "message": "ok",
                },
                {
                    "messageType": "INFO",
                    "messageCode": "ORDER_EXT_API_GET_ORDER_INFO_102",
                    "message": "none",
                    "orderNumber": "a-3",
                },
            ],
            "OrderModelList": [order_body("a-1", 300, modifyFlag=1), deleted_package],
        },
        match=[
            matchers.json_params_matcher({"orderNumberList": ["a-1", "a-2", "a-3"], "version": 10})
        ],
    )
    result = client.get_orders(["a-1", "a-2", "a-3", "a-1"])
    first, second = result.orders
    assert result.not_found == ["a-3"]
    assert first.progress == 300
    assert first.modified
    assert first.ordered_at == dt.datetime(2026, 11, 22, 10, 0, tzinfo=JST)
    (line,) = first.active_lines
    assert (line.manage_number, line.variant_id, line.units, line.merchant_sku_id) == (
        "tshirt",
        "Tshirt-RED-M",
        2,
        None,
    )
    assert line.restore_inventory == 1
    assert not hasattr(line, "price")
    assert second.lines[0].deleted
    assert second.active_lines == ()


@responses.activate
def test_get_orders_reads_the_seed_shape(client):
    responses.post(
        GET,
        json={
            "orderList": {
                "orderNumber": "s-1",
                "orderProgress": 100,
                "orderDate": "2026-02-17T12:00:00+0900",
                "itemsModel": {
                    "itemsModel": {
                        "skuNumber": "ce1111",
                        "itemManagementNumber": "ce1111",
                        "quantity": 1,
                    }
                },
            }
        },
    )
    (order,) = client.get_orders(["s-1"]).orders
    assert order.lines[0].variant_id == "ce1111"
    assert order.lines[0].units == 1


@responses.activate
def test_order_without_sku_rows_keeps_its_line(client):
    body = order_body("a-1")
    body["PackageModelList"][0]["ItemModelList"][0]["SkuModelList"] = []
    responses.post(GET, json={"OrderModelList": body})
    (order,) = client.get_orders(["a-1"]).orders
    assert order.lines[0].variant_id == ""
    assert order.lines[0].manage_number == "tshirt"


@responses.activate
def test_get_and_confirm_batch_by_100(client):
    numbers = [f"n-{i}" for i in range(250)]
    responses.post(GET, json={"OrderModelList": []})
    responses.post(CONFIRM, json={"MessageModelList": []})
    client.get_orders(numbers)
    result = client.confirm_orders(numbers)
    sizes = [len(json.loads(call.request.body)["orderNumberList"]) for call in responses.calls]
    assert sizes == [100, 100, 50, 100, 100, 50]
    assert len(result.confirmed) == 250


@responses.activate
def test_confirm_reports_orders_rms_refused(client):
    responses.post(
        CONFIRM,
        json={
            "MessageModelList": [
                {
                    "messageType": "INFO",
                    "messageCode": "ORDER_EXT_API_CONFIRM_ORDER_INFO_101",
                    "message": "ok",
                },
                {
                    "messageType": "ERROR",
                    "messageCode": "ORDER_EXT_API_CONFIRM_ORDER_ERROR_005",
                    "message": "not waiting",
                    "orderNumber": "b",
                },
            ]
        },
        match=[matchers.json_params_matcher({"orderNumberList": ["a", "b"]})],
    )
    result = client.confirm_orders(["a", "b"])
    assert result.confirmed == ["a"]
    assert result.failed == {"b": "not waiting"}


@responses.activate
def test_inventory_bulk_get_and_upsert(client):
    responses.post(
        BULK_GET,
        json={
            "inventories": [
                {
                    "manageNumber": "tshirt",
                    "variantId": "Tshirt-RED-M",
                    "quantity": 4,
                    "created": "2022-01-01T19:00:00+09:00",
                    "updated": "2022-02-01T19:30:00+09:00",
                }
            ]
        },
    )
    responses.post(BULK_UPSERT, status=204)
    (record,) = client.inventory_bulk_get([VariantKey("tshirt", "Tshirt-RED-M")])
    assert record.quantity == 4
    assert record.updated == dt.datetime(2022, 2, 1, 19, 30, tzinfo=JST)
    client.inventory_bulk_upsert(
        [
            InventoryUpdate("tshirt", "Tshirt-RED-M", 3),
            InventoryUpdate("tshirt", "Tshirt-RED-L", -1, InventoryMode.RELATIVE),
        ]
    )
    assert json.loads(responses.calls[1].request.body) == {
        "inventories": [
            {
                "manageNumber": "tshirt",
                "variantId": "Tshirt-RED-M",
                "mode": "ABSOLUTE",
                "quantity": 3,
            },
            {
                "manageNumber": "tshirt",
                "variantId": "Tshirt-RED-L",
                "mode": "RELATIVE",
                "quantity": -1,
            },
        ]
    }


@responses.activate
def test_bulk_upsert_maps_rms_rows_back_to_the_callers_rows(client):
    responses.post(BULK_UPSERT, status=204)
    responses.post(
        BULK_UPSERT,
        status=400,
        json={
            "errors": [
                {
                    "code": "IE0500",
                    "message": "RELATIVE on missing SKU",
                    "metadata": {"propertyPath": "inventories[2].mode"},
                }
            ]
        },
    )
    updates = [InventoryUpdate("m", f"v{i}", 1) for i in range(450)]
    with pytest.raises(RmsBadRequest) as caught:
        client.inventory_bulk_upsert(updates)
    assert caught.value.details[0].row == 402
    assert caught.value.applied == 400
    assert "IE0500" in str(caught.value)


@pytest.mark.parametrize(
    ("update", "code"),
    [
        (InventoryUpdate("m", "v", 100_000), "IE0003"),
        (InventoryUpdate("m", "v", -1), "IE0003"),
        (InventoryUpdate("m", "v", -100_000, InventoryMode.RELATIVE), "IE0003"),
        (InventoryUpdate("m", "v", True), "IE0002"),
        (InventoryUpdate("m", "v", 1, "SET"), "IE0002"),
        (InventoryUpdate("m" * 33, "v", 1), "IE0004"),
        (InventoryUpdate("m", "v/1", 1), "IE0002"),
        (InventoryUpdate("", "v", 1), "IE0001"),
    ],
)
@responses.activate
def test_bulk_upsert_refuses_bad_rows_before_any_call(client, update, code):
    with pytest.raises(RmsRequestInvalid) as caught:
        client.inventory_bulk_upsert([InventoryUpdate("m", "ok", 1), update])
    assert caught.value.codes == [code]
    assert caught.value.details[0].row == 1
    assert len(responses.calls) == 0


@responses.activate
def test_bulk_upsert_refuses_duplicates_and_empty_requests(client):
    with pytest.raises(RmsRequestInvalid) as caught:
        client.inventory_bulk_upsert([InventoryUpdate("M", "v", 1), InventoryUpdate("m", "v", 2)])
    assert caught.value.codes == ["IE1102"]
    with pytest.raises(RmsRequestInvalid):
        client.inventory_bulk_upsert([])
    with pytest.raises(RmsRequestInvalid):
        client.inventory_bulk_get([VariantKey("m", "")])
    with pytest.raises(RmsRequestInvalid):
        client.variant_upsert("m", "v", 100_000)
    with pytest.raises(RmsRequestInvalid):
        client.variant_get("m" * 40, "v")
    assert len(responses.calls) == 0


@responses.activate
def test_variant_get_and_upsert(client):
    responses.get(
        VARIANT, json={"manageNumber": "tshirt", "variantId": "Tshirt-RED-M", "quantity": 9}
    )
    responses.put(
        VARIANT,
        status=204,
        match=[matchers.json_params_matcher({"mode": "ABSOLUTE", "quantity": 5})],
    )
    assert client.variant_get("tshirt", "Tshirt-RED-M").quantity == 9
    client.variant_upsert("tshirt", "Tshirt-RED-M", 5)
    responses.get(
        VARIANT, status=404, json={"errors": [{"code": "GE0014", "message": "Not found."}]}
    )
    with pytest.raises(RmsNotFound):
        client.variant_get("tshirt", "Tshirt-RED-M")


@responses.activate
def test_items_search_follows_the_cursor_until_it_repeats(client):
    responses.get(
        ITEMS,
        match=[matchers.query_param_matcher({"hits": "100", "cursorMark": "*"})],
        json={
            "numFound": 3,
            "nextCursorMark": "c1",
            "results": [
                {
                    "item": {
                        "manageNumber": "a",
                        "itemNumber": "A",
                        "title": "A",
                        "variants": {"v1": {"merchantDefinedSkuId": "A-1"}, "v2": {"hidden": True}},
                    }
                },
                {"item": {"manageNumber": "gone"}},
            ],
        },
    )
    responses.get(
        ITEMS,
        match=[matchers.query_param_matcher({"hits": "100", "cursorMark": "c1"})],
        json={
            "numFound": 3,
            "nextCursorMark": "c2",
            "results": [{"item": {"manageNumber": "b", "variants": {}}}],
        },
    )
    responses.get(
        ITEMS,
        match=[matchers.query_param_matcher({"hits": "100", "cursorMark": "c2"})],
        json={"numFound": 3, "nextCursorMark": "c2", "results": []},
    )
    items = list(client.items_search())
    assert [item.manage_number for item in items] == ["a", "gone", "b"]
    assert items[1].deleted
    assert [(v.variant_id, v.merchant_sku_id, v.hidden) for v in items[0].variants] == [
        ("v1", "A-1", False),
        ("v2", None, True),
    ]


@responses.activate
def test_licence_expiry_reads_japan_time(client):
    responses.get(
        EXPIRY,
        match=[matchers.query_param_matcher({"licenseKey": "SL1"})],
        json={"expiryDate": "2026-11-28T23:59:59"},
    )
    expiry = client.license_expiry()
    assert expiry.expires_at == dt.datetime(2026, 11, 28, 23, 59, 59, tzinfo=JST)
    assert expiry.days_left(NOW) == 6


# --- errors and retries ------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_429_and_500_are_retried_with_1_2_4_second_backoff(client, sleeps):
    responses.post(
        BULK_UPSERT, status=429, json={"Results": {"errorCode": "ES04-02", "message": "busy"}}
    )
    responses.post(BULK_UPSERT, status=500, json={"errors": [{"code": "X0000", "message": "boom"}]})
    responses.post(BULK_UPSERT, status=503)
    responses.post(BULK_UPSERT, status=204)
    client.inventory_bulk_upsert([InventoryUpdate("m", "v", 1)])
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(responses.calls) == 4


@responses.activate(registry=OrderedRegistry)
def test_retry_after_is_honoured(client, sleeps):
    responses.post(BULK_GET, status=429, headers={"Retry-After": "7"})
    responses.post(BULK_GET, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    responses.post(BULK_GET, json={"inventories": []})
    assert client.inventory_bulk_get([VariantKey("m", "v")]) == []
    assert sleeps == [7.0, 2.0]


@responses.activate
def test_persistent_429_raises_rate_limited_after_three_retries(client, sleeps):
    responses.post(BULK_GET, status=429)
    with pytest.raises(RmsRateLimited):
        client.inventory_bulk_get([VariantKey("m", "v")])
    assert len(responses.calls) == 4
    assert sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("status", "body", "error", "codes"),
    [
        (
            400,
            {
                "errors": [
                    {
                        "code": "IE0001",
                        "message": "required",
                        "metadata": {"propertyPath": "inventories[0].mode"},
                    }
                ]
            },
            RmsBadRequest,
            ["IE0001"],
        ),
        (
            401,
            {"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}},
            RmsAuthError,
            ["ES01-01"],
        ),
        (403, None, RmsAuthError, []),
        (404, {"errors": [{"code": "GE0014", "message": "not found"}]}, RmsNotFound, ["GE0014"]),
        (
            415,
            {"Results": {"errorCode": "ES04-03", "message": "Unsupported Media Type"}},
            RmsBadRequest,
            ["ES04-03"],
        ),
        (
            400,
            {
                "MessageModelList": [
                    {
                        "messageType": "ERROR",
                        "messageCode": "ORDER_EXT_API_SEARCH_ORDER_ERROR_011",
                        "message": "bad date",
                    }
                ]
            },
            RmsBadRequest,
            ["ORDER_EXT_API_SEARCH_ORDER_ERROR_011"],
        ),
    ],
)
@responses.activate
def test_client_errors_are_typed_and_never_retried(
    client, sleeps, status, body, error, codes, monkeypatch
):
    monkeypatch.setattr("rakuten.client._content_types", {})
    responses.post(BULK_GET, status=status, json=body)
    with pytest.raises(error) as caught:
        client.inventory_bulk_get([VariantKey("m", "v")])
    assert caught.value.codes == codes
    assert caught.value.status == status
    sent = [call.request.headers["Content-Type"] for call in responses.calls]
    if status == 415:
        # The disputed Content-Type: the other form once, and no more.
        assert sent == ["application/json;charset=utf-8", "application/json; charset=utf-8"]
    else:
        assert len(sent) == 1
    assert sleeps == []


@responses.activate
def test_expired_licence_key_is_recognised(client):
    responses.get(
        EXPIRY, status=401, json={"Results": {"errorCode": "GA0001", "message": "expired"}}
    )
    with pytest.raises(RmsAuthError) as caught:
        client.license_expiry()
    assert caught.value.license_expired


@responses.activate
def test_timeouts_are_retried_then_raised(client, sleeps):
    responses.post(BULK_GET, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(RmsTimeout):
        client.inventory_bulk_get([VariantKey("m", "v")])
    assert len(responses.calls) == 4


@responses.activate(registry=OrderedRegistry)
def test_relative_upsert_is_not_retried_when_it_may_have_applied(client, sleeps):
    responses.post(BULK_UPSERT, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(RmsTimeout):
        client.inventory_bulk_upsert([InventoryUpdate("m", "v", -1, InventoryMode.RELATIVE)])
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"[1, 2]",
        b'{"inventories": [{"manageNumber": "m"}]}',
        b'{"inventories": [{"manageNumber": "m", "variantId": "v", "quantity": "lots"}]}',
    ],
)
@responses.activate
def test_malformed_answers_are_a_typed_error(client, body):
    responses.post(BULK_GET, body=body, content_type="application/json")
    with pytest.raises(RmsMalformedResponse):
        client.inventory_bulk_get([VariantKey("m", "v")])
    assert len(responses.calls) == 1


@responses.activate
def test_malformed_order_answer(client):
    responses.post(GET, json={"OrderModelList": [{"orderNumber": "a", "orderProgress": "x"}]})
    with pytest.raises(RmsMalformedResponse, match=r"order\.get"):
        client.get_orders(["a"])


def test_a_client_needs_credentials():
    with pytest.raises(RmsRequestInvalid):
        RmsClient(service_secret="", license_key="SL1")


@pytest.mark.django_db
@responses.activate
def test_for_store_uses_the_stores_credentials_and_base_url():
    from stores.tests.factories import StoreFactory

    store = StoreFactory(
        api_config={"base_url": BASE}, credentials={"service_secret": "SP1", "license_key": "SL1"}
    )
    responses.get(
        EXPIRY,
        json={"expiryDate": "2027-01-01T00:00:00"},
        match=[matchers.header_matcher({"Authorization": AUTH})],
    )
    client = RmsClient.for_store(store, limiter=RateLimiter())
    assert client.label == store.store_id
    assert client.license_expiry().expires_at.year == 2027
    bare = StoreFactory(credentials={})
    with pytest.raises(RmsRequestInvalid):
        RmsClient.for_store(bare)
