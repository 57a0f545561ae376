"""The sandbox's own rules: what RMS validates, how stock moves, its control API."""

import base64
import datetime as dt
import json
import threading
import time

import pytest
import requests

from rakuten.sandbox.demo import DEMO_SHOPS, demo_load
from rakuten.sandbox.state import ApiError, Sandbox
from rakuten.types import JST
from sync.ratelimit import RateLimiter

from .conftest import KEY, SECRET

NOW = dt.datetime.now(JST).replace(microsecond=0)


def search_body(**overrides):
    body = {
        "dateType": 1,
        "startDatetime": (NOW - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0900"),
        "endDatetime": NOW.strftime("%Y-%m-%dT%H:%M:%S+0900"),
        "PaginationRequestModel": {"requestRecordsAmount": 30, "requestPage": 1},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def codes(error: ApiError) -> list[str]:
    body = error.body
    if "errors" in body:
        return [e["code"] for e in body["errors"]]
    if "Results" in body:
        return [body["Results"]["errorCode"]]
    return [m["messageCode"] for m in body["MessageModelList"]]


@pytest.fixture
def shop(sandbox):
    return sandbox.shops["shop-a"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"dateType": None}, "ORDER_EXT_API_SEARCH_ORDER_ERROR_009"),
        ({"startDatetime": None}, "ORDER_EXT_API_SEARCH_ORDER_ERROR_010"),
        ({"startDatetime": "2026-11-01T00:00:00Z"}, "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"),
        ({"endDatetime": "2026-11-01T00:00:00+09:00"}, "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"),
        ({"PaginationRequestModel": None}, "ORDER_EXT_API_SEARCH_ORDER_ERROR_010"),
    ],
)
def test_search_validation_matches_rms(sandbox, shop, overrides, code):
    with pytest.raises(ApiError) as caught:
        sandbox.order_search(shop, search_body(**overrides))
    assert caught.value.status == 400
    assert codes(caught.value) == [code]


def test_search_refuses_long_windows_and_bad_paging(sandbox, shop):
    old = (NOW - dt.timedelta(days=70)).strftime("%Y-%m-%dT%H:%M:%S+0900")
    for body in (
        search_body(startDatetime=old),
        search_body(PaginationRequestModel={"requestRecordsAmount": 1001}),
        search_body(
            PaginationRequestModel={"SortModelList": [{"sortColumn": 2, "sortDirection": 1}]}
        ),
        search_body(orderProgressList=[150]),
        search_body(dateType=9),
    ):
        with pytest.raises(ApiError):
            sandbox.order_search(shop, body)


def test_search_caps_at_15000_but_reports_the_total(sandbox, shop, monkeypatch):
    monkeypatch.setattr("rakuten.sandbox.state.SEARCH_CAP", 5)
    for i in range(7):
        sandbox.order_place(
            "shop-a",
            [{"manageNumber": "ce1111", "variantId": "CE1111"}],
            ordered_at=NOW - dt.timedelta(minutes=10 - i),
        )
    answer = sandbox.order_search(
        shop,
        search_body(
            PaginationRequestModel={
                "requestRecordsAmount": 2,
                "requestPage": 3,
                "SortModelList": [{"sortColumn": 1, "sortDirection": 2}],
            }
        ),
    )
    assert answer["PaginationResponseModel"] == {
        "totalRecordsAmount": 7,
        "totalPages": 3,
        "requestPage": 3,
    }
    assert len(answer["orderNumberList"]) == 1
    # Newest first: the fifth newest is the third oldest.
    assert answer["orderNumberList"][0].endswith("00000003")


def test_get_order_requires_a_version_of_7_or_later(sandbox, shop):
    for body, code in (
        ({"orderNumberList": ["x"]}, "ORDER_EXT_API_GET_ORDER_ERROR_004"),
        ({"orderNumberList": ["x"], "version": 6}, "ORDER_EXT_API_GET_ORDER_ERROR_005"),
        ({"version": 10}, "ORDER_EXT_API_GET_ORDER_ERROR_001"),
        ({"orderNumberList": ["x"] * 101, "version": 10}, "ORDER_EXT_API_GET_ORDER_ERROR_002"),
    ):
        with pytest.raises(ApiError) as caught:
            sandbox.order_get(shop, body)
        assert codes(caught.value) == [code]


def test_orders_cannot_take_more_than_the_shop_shows(sandbox):
    with pytest.raises(ApiError) as caught:
        sandbox.order_place(
            "shop-a", [{"manageNumber": "towel", "variantId": "Towel-NAVY", "units": 4}]
        )
    assert caught.value.status == 409
    assert sandbox.stock_of("shop-a", "towel", "Towel-NAVY") == 3
    with pytest.raises(ApiError):
        sandbox.order_place("shop-a", [{"manageNumber": "towel", "variantId": "Nope"}])


def test_cancel_restocks_only_items_that_restock(sandbox):
    towel = sandbox.order_place(
        "shop-a", [{"manageNumber": "towel", "variantId": "Towel-NAVY", "units": 2}]
    )
    shirt = sandbox.order_place(
        "shop-a", [{"manageNumber": "tshirt-red", "variantId": "Tshirt-RED-L", "units": 2}]
    )
    sandbox.order_progress("shop-a", towel.order_number, 900)
    sandbox.order_progress("shop-a", shirt.order_number, 900)
    assert sandbox.stock_of("shop-a", "towel", "Towel-NAVY") == 1
    assert sandbox.stock_of("shop-a", "tshirt-red", "Tshirt-RED-L") == 12
    with pytest.raises(ApiError):
        sandbox.order_progress("shop-a", towel.order_number, 300)


def test_removing_a_line_marks_it_deleted_and_returns_its_stock(sandbox, shop):
    order = sandbox.order_place(
        "shop-a", [{"manageNumber": "ce1111", "variantId": "CE1111", "units": 5}]
    )
    sandbox.order_units("shop-a", order.order_number, 0, 0)
    assert sandbox.stock_of("shop-a", "ce1111", "CE1111") == 100
    model = sandbox.order_get(shop, {"orderNumberList": [order.order_number], "version": 10})
    item = model["OrderModelList"][0]["PackageModelList"][0]["ItemModelList"][0]
    assert item["deleteItemFlag"] == 1
    assert model["OrderModelList"][0]["modifyFlag"] == 1


def test_bulk_upsert_validates_everything_and_applies_nothing_on_error(sandbox, shop):
    body = {
        "inventories": [
            {"manageNumber": "ce1111", "variantId": "CE1111", "mode": "ABSOLUTE", "quantity": 1},
            {"manageNumber": "ce1111", "variantId": "CE1111", "mode": "ABSOLUTE", "quantity": 2},
            {"manageNumber": "x" * 33, "variantId": "a", "mode": "ABSOLUTE", "quantity": 1},
        ]
    }
    with pytest.raises(ApiError) as caught:
        sandbox.inventory_bulk_upsert(shop, body)
    assert codes(caught.value) == ["IE1102", "IE0004"]
    assert (
        caught.value.body["errors"][1]["metadata"]["propertyPath"] == "inventories[2].manageNumber"
    )
    body = {
        "inventories": [
            {
                "manageNumber": "ce1111",
                "variantId": "CE1111",
                "mode": "RELATIVE",
                "quantity": 99_950,
            },
            {"manageNumber": "ce1111", "variantId": "X", "quantity": 1},
            {
                "manageNumber": "towel",
                "variantId": "Towel-NAVY",
                "mode": "ABSOLUTE",
                "quantity": -1,
            },
        ]
    }
    with pytest.raises(ApiError) as caught:
        sandbox.inventory_bulk_upsert(shop, body)
    assert codes(caught.value) == ["IE0117", "IE0001", "IE0003"]
    assert sandbox.stock_of("shop-a", "ce1111", "CE1111") == 100
    for empty, code in (
        (None, "GE0011"),
        ({"inventories": []}, "IE0001"),
        ({"inventories": [{}] * 401}, "IE1101"),
    ):
        with pytest.raises(ApiError) as caught:
            sandbox.inventory_bulk_upsert(shop, empty)
        assert codes(caught.value)[0] == code


def test_single_variant_calls(sandbox, shop):
    sandbox.variant_upsert(shop, "CE1111", "CE1111", {"mode": "RELATIVE", "quantity": -10})
    assert sandbox.variant_get(shop, "ce1111", "CE1111")["quantity"] == 90
    with pytest.raises(ApiError) as caught:
        sandbox.variant_get(shop, "ce1111", "ce1111")  # variant ids keep their case
    assert caught.value.status == 404
    with pytest.raises(ApiError) as caught:
        sandbox.variant_upsert(shop, "ce1111", "New", {"mode": "RELATIVE", "quantity": 1})
    assert codes(caught.value) == ["IE0500"]
    with pytest.raises(ApiError):
        sandbox.variant_upsert(shop, "ce1111", "bad id", {"mode": "ABSOLUTE", "quantity": 1})


def test_items_search_paging_rules(sandbox, shop):
    page = sandbox.items_search(shop, {"hits": "2", "offset": "1"})
    assert page["numFound"] == 3
    assert [r["item"]["manageNumber"] for r in page["results"]] == ["towel", "tshirt-red"]
    assert sandbox.items_search(shop, {"variantId": "RED-L"})["numFound"] == 1
    assert sandbox.items_search(shop, {"merchantDefinedSkuId": "TRM"})["numFound"] == 1
    for query in (
        {"hits": "101"},
        {"hits": "x"},
        {"cursorMark": "*", "sortKey": "x"},
        {"cursorMark": "%%%"},
    ):
        with pytest.raises(ApiError):
            sandbox.items_search(shop, query)


def test_authentication(sandbox):
    good = "ESA " + base64.b64encode(f"{SECRET}:{KEY}".encode()).decode()
    assert sandbox.authenticate(good).shop_id == "shop-a"
    for header in (None, "Basic abc", "ESA !!!", "ESA " + base64.b64encode(b"x:y").decode()):
        with pytest.raises(ApiError) as caught:
            sandbox.authenticate(header)
        assert caught.value.status == 401


def test_rate_limit_window(sandbox, shop):
    sandbox.rate_limits["order.get"] = 2
    sandbox.rate_check(shop, "order.get")
    sandbox.rate_check(shop, "order.get")
    with pytest.raises(ApiError) as caught:
        sandbox.rate_check(shop, "order.get")
    assert caught.value.status == 429
    assert caught.value.headers == {"Retry-After": "1"}


def test_state_survives_a_save_and_load(sandbox, tmp_path):
    order = sandbox.order_place(
        "shop-a", [{"manageNumber": "ce1111", "variantId": "CE1111", "units": 3}]
    )
    sandbox.order_progress("shop-a", order.order_number, 300)
    path = tmp_path / "state.json"
    sandbox.save(path)
    again = Sandbox()
    again.load(json.loads(path.read_text()))
    assert again.stock_of("shop-a", "ce1111", "CE1111") == 97
    restored = again.order("shop-a", order.order_number)
    assert (restored.progress, restored.lines[0].units) == (300, 3)
    assert (
        again.shops["shop-a"].items["tshirt-red"].variants["Tshirt-RED-M"].merchant_sku_id == "TRM"
    )
    assert again.dump() == sandbox.dump()


def test_generator_places_orders_within_stock(sandbox):
    placed = sandbox.generate(40)
    assert len(placed) == 40
    for shop in sandbox.shops.values():
        assert all(row.quantity >= 0 for row in shop.stock.values())
    assert sandbox.stock_of("shop-a", "towel", "Towel-NAVY") >= 0


def test_demo_shops_match_the_demo_stores(sandbox):
    demo_load(sandbox)
    assert {shop_id for shop_id, *_ in DEMO_SHOPS} <= set(sandbox.shops)
    assert sandbox.stock_of("demo-tokyo", "tshirt-red", "Tshirt-RED-M") == 25


def test_faults_and_control_validation(sandbox):
    with pytest.raises(ApiError):
        sandbox.fault_add("order.search", "explode")
    with pytest.raises(ApiError):
        sandbox.fault_add("order.nope", "500")
    with pytest.raises(ApiError):
        sandbox.shop_add(shop_id="shop-a", service_secret="s", license_key="k")
    sandbox.fault_add("order.search", "500", 2, shop_id="shop-b")
    assert sandbox.fault_take("shop-a", "order.search") is None
    assert sandbox.fault_take("shop-b", "order.search").kind == "500"


def test_control_api_over_http(sandbox_server):
    control = sandbox_server.url + "/_sandbox"
    post = lambda path, body: requests.post(control + path, json=body, timeout=5)  # noqa: E731
    assert (
        post(
            "/shops",
            {
                "shopId": "shop-b",
                "serviceSecret": "s",
                "licenseKey": "k",
                "items": [{"manageNumber": "m", "variants": [{"variantId": "V", "quantity": 2}]}],
            },
        ).status_code
        == 201
    )
    assert (
        post(
            "/shops/shop-b/items", {"manageNumber": "n", "variants": [{"variantId": "W"}]}
        ).status_code
        == 201
    )
    assert requests.put(
        control + "/shops/shop-b/stock",
        json={"manageNumber": "n", "variantId": "W", "quantity": 5},
        timeout=5,
    ).ok
    order = post(
        "/shops/shop-b/orders", {"lines": [{"manageNumber": "m", "variantId": "V", "units": 2}]}
    ).json()
    assert (
        post(
            "/shops/shop-b/orders", {"lines": [{"manageNumber": "m", "variantId": "V"}]}
        ).status_code
        == 409
    )
    number = order["orderNumber"]
    assert (
        post(f"/shops/shop-b/orders/{number}/units", {"line": 0, "units": 1}).json()["lines"][0][
            "units"
        ]
        == 1
    )
    assert (
        post(f"/shops/shop-b/orders/{number}/progress", {"orderProgress": 900}).json()[
            "orderProgress"
        ]
        == 900
    )
    inventory = requests.get(control + "/shops/shop-b/inventory", timeout=5).json()["inventory"]
    assert {(r["manageNumber"], r["variantId"]): r["quantity"] for r in inventory} == {
        ("m", "V"): 2,
        ("n", "W"): 5,
    }
    assert len(requests.get(control + "/shops/shop-b/orders", timeout=5).json()["orders"]) == 1
    assert (
        post("/faults", {"endpoint": "order.get", "kind": "500", "count": 2}).json()["count"] == 2
    )
    assert requests.delete(control + "/faults", timeout=5).ok
    assert post("/generate", {"count": 3}).ok
    assert post("/tick", {}).ok
    assert (
        requests.put(control + "/rate-limits", json={"order.get": 3}, timeout=5).json()["order.get"]
        == 3
    )
    assert post("/shops/shop-b/licence", {"expiresAt": "2020-01-01T00:00:00+09:00"}).ok
    auth = "ESA " + base64.b64encode(b"s:k").decode()
    expired = requests.get(
        sandbox_server.url + "/es/2.0/items/search", headers={"Authorization": auth}, timeout=5
    )
    assert expired.json()["Results"]["errorCode"] == "GA0001"
    calls = requests.get(control + "/calls", params={"endpoint": "items.search"}, timeout=5).json()[
        "calls"
    ]
    assert [c["status"] for c in calls] == [401]
    assert requests.delete(control + "/calls", timeout=5).ok
    assert post("/save", {}).status_code == 400  # no --state file
    assert requests.get(control + "/nope", timeout=5).status_code == 404
    assert post("/shops", {"shopId": "x"}).status_code == 400
    assert "shops" in requests.get(control + "/state", timeout=5).json()
    assert post("/reset", {}).ok
    assert requests.get(control + "/health", timeout=5).json()["shops"] == []


def test_wrong_method_and_unknown_paths(sandbox_server):
    assert (
        requests.get(sandbox_server.url + "/es/2.0/order/searchOrder/", timeout=5).status_code
        == 405
    )
    assert requests.post(sandbox_server.url + "/es/2.0/item/getItems", timeout=5).status_code == 404


def test_limiter_counts_from_the_answer_and_per_endpoint():
    limiter = RateLimiter(margin=0.0)
    first = limiter.acquire("shop", "a", 2)
    second = limiter.acquire("shop", "a", 2)  # two per second may be in flight
    limiter.acquire("shop", "b", 2)  # another endpoint has its own slots
    limiter.acquire("other", "a", 2)  # and so has another shop
    limiter.acquire("shop", "a", 0)  # no limit
    waited = []

    def third():
        started = time.monotonic()
        limiter.acquire("shop", "a", 2)
        waited.append(time.monotonic() - started)

    thread = threading.Thread(target=third)
    thread.start()
    time.sleep(0.2)
    assert waited == []  # both slots still in flight
    limiter.release("shop", "a", first)
    limiter.release("shop", "a", second)
    thread.join()
    # It waited for the answers, then a full second after the first of them.
    assert 1.15 <= waited[0] <= 1.6
    slow = RateLimiter(margin=0.0)
    slow.release("shop", "a", slow.acquire("shop", "a", 0.5))
    started = time.monotonic()
    slow.acquire("shop", "a", 0.5)
    assert time.monotonic() - started >= 1.9
    slow.reset()


def test_a_state_built_elsewhere_loads_over_http(sandbox, sandbox_server):
    """bench_poll builds its shops in its own process and loads them with PUT /_sandbox/state."""
    built = Sandbox(clock=lambda: NOW - dt.timedelta(days=2))
    built.shop_add(
        shop_id="shop-z",
        service_secret="sz",
        license_key="kz",
        items=[{"manageNumber": "m", "variants": [{"variantId": "V", "quantity": 5}]}],
    )
    order = built.order_place("shop-z", [{"manageNumber": "m", "variantId": "V", "units": 2}])
    built.order_progress("shop-z", order.order_number, 300)
    control = sandbox_server.url + "/_sandbox"
    answer = requests.put(control + "/state", json=built.dump(), timeout=5)
    assert answer.json()["shops"] == ["shop-z"]  # the state replaces the one before
    assert sandbox.dump() == built.dump()
    loaded = sandbox.order("shop-z", order.order_number)
    assert (loaded.progress, loaded.ordered_at) == (300, NOW - dt.timedelta(days=2))
    assert sandbox.stock_of("shop-z", "m", "V") == 3


def test_the_clock_stops_at_a_simulated_minute_and_runs_again(sandbox, sandbox_server):
    control = sandbox_server.url + "/_sandbox"
    later = NOW + dt.timedelta(hours=5, seconds=7)
    stopped = requests.put(control + "/clock", json={"now": later.isoformat()}, timeout=5)
    assert stopped.json()["now"] == later.isoformat()
    placed = requests.post(
        control + "/shops/shop-a/orders",
        json={"lines": [{"manageNumber": "ce1111", "variantId": "CE1111"}]},
        timeout=5,
    ).json()
    assert dt.datetime.fromisoformat(placed["orderDatetime"]) == later
    number = placed["orderNumber"]
    requests.post(
        control + f"/shops/shop-a/orders/{number}/progress", json={"orderProgress": 500}, timeout=5
    ).raise_for_status()
    assert sandbox.order("shop-a", number).shipped_at == later
    # A search is checked against the stopped clock: a window ending then is fine.
    window = search_body(
        dateType=4,
        startDatetime=(later - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+0900"),
        endDatetime=later.strftime("%Y-%m-%dT%H:%M:%S+0900"),
    )
    assert sandbox.order_search(sandbox.shops["shop-a"], window)["orderNumberList"] == [number]
    running = requests.put(control + "/clock", json={"now": None}, timeout=5).json()["now"]
    assert abs(dt.datetime.fromisoformat(running) - dt.datetime.now(JST)) < dt.timedelta(minutes=1)
