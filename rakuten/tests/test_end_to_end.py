"""The client against the sandbox, over HTTP on a loopback port inside the test run."""

import datetime as dt
import logging
import threading
import time

import pytest
import requests

from rakuten.errors import (
    RmsAuthError,
    RmsBadRequest,
    RmsMalformedResponse,
    RmsRateLimited,
    RmsRequestInvalid,
    RmsServerError,
    RmsTimeout,
)
from rakuten.types import JST, InventoryMode, InventoryUpdate, VariantKey

from .conftest import KEY, SECRET

NOW = dt.datetime.now(JST)
DAY = dt.timedelta(days=1)


def place(sandbox, count, *, shop="shop-a", when=None):
    for i in range(count):
        sandbox.order_place(
            shop,
            [{"manageNumber": "ce1111", "variantId": "CE1111", "units": 1}],
            ordered_at=(when or NOW - dt.timedelta(hours=1)) + dt.timedelta(seconds=i),
            allow_oversell=True,
        )


def test_search_walks_every_page_oldest_first(sandbox, make_client):
    place(sandbox, 25)
    result = make_client().search_orders(NOW - DAY, NOW, page_size=10)
    assert result.total == 25
    assert not result.truncated
    assert len(result.order_numbers) == 25
    assert result.order_numbers == sorted(result.order_numbers)  # same second order = seq order
    calls = sandbox.calls_matching(endpoint="order.search")
    assert [call.status for call in calls] == [200, 200, 200]


def test_search_with_no_hits_reads_the_null_pagination(sandbox, make_client):
    result = make_client().search_orders(NOW - DAY, NOW)
    assert result.order_numbers == []
    assert result.total == 0


def test_search_filters_by_status_and_window(sandbox, make_client):
    place(sandbox, 3)
    place(sandbox, 2, when=NOW - 3 * DAY)
    first = next(iter(sandbox.shops["shop-a"].orders))
    sandbox.order_progress("shop-a", first, 900)
    client = make_client()
    assert client.search_orders(NOW - DAY, NOW, statuses=[100]).total == 2
    assert client.search_orders(NOW - 4 * DAY, NOW).total == 5


def test_get_orders_batches_by_100_and_reports_unknown_numbers(sandbox, make_client):
    place(sandbox, 230)
    client = make_client()
    numbers = client.search_orders(NOW - DAY, NOW).order_numbers
    result = client.get_orders([*numbers, "999999-20260101-00000001"])
    assert len(result.orders) == 230
    assert result.not_found == ["999999-20260101-00000001"]
    assert len(sandbox.calls_matching(endpoint="order.get")) == 3
    line = result.orders[0].lines[0]
    assert (line.manage_number, line.variant_id, line.units) == ("ce1111", "CE1111", 1)


def test_order_lifecycle_seen_through_the_client(sandbox, make_client):
    client = make_client()
    order = sandbox.order_place(
        "shop-a", [{"manageNumber": "tshirt-red", "variantId": "Tshirt-RED-M", "units": 3}]
    )
    # Rakuten lowers its own stock when the order is placed.
    assert client.variant_get("tshirt-red", "Tshirt-RED-M").quantity == 22
    result = client.confirm_orders([order.order_number, "999999-20260101-00000001"])
    assert result.confirmed == [order.order_number]
    assert "999999-20260101-00000001" in result.failed
    sandbox.tick()
    assert client.get_orders([order.order_number]).orders[0].progress == 300
    sandbox.order_units("shop-a", order.order_number, 0, 1)
    fetched = client.get_orders([order.order_number]).orders[0]
    assert fetched.modified
    assert fetched.lines[0].units == 1
    assert client.variant_get("tshirt-red", "Tshirt-RED-M").quantity == 24
    sandbox.order_progress("shop-a", order.order_number, 900)
    assert client.get_orders([order.order_number]).orders[0].cancelled
    assert client.variant_get("tshirt-red", "Tshirt-RED-M").quantity == 25


def test_confirming_twice_fails_per_order(sandbox, make_client):
    place(sandbox, 1)
    number = next(iter(sandbox.shops["shop-a"].orders))
    client = make_client()
    assert client.confirm_orders([number]).confirmed == [number]
    again = client.confirm_orders([number])
    assert again.confirmed == []
    assert number in again.failed


def test_bulk_upsert_and_read_back(sandbox, make_client):
    client = make_client()
    client.inventory_bulk_upsert(
        [
            InventoryUpdate("Tshirt-Red", "Tshirt-RED-M", 7),
            InventoryUpdate("tshirt-red", "Tshirt-RED-L", -2, InventoryMode.RELATIVE),
        ]
    )
    records = {
        record.variant_id: record.quantity
        for record in client.inventory_bulk_get(
            [VariantKey("tshirt-red", "Tshirt-RED-M"), VariantKey("tshirt-red", "Tshirt-RED-L")]
        )
    }
    assert records == {"Tshirt-RED-M": 7, "Tshirt-RED-L": 10}


def test_bulk_upsert_splits_into_400s(sandbox, make_client):
    updates = [InventoryUpdate("bulk", f"V{i}", i % 10) for i in range(900)]
    make_client().inventory_bulk_upsert(updates)
    assert len(sandbox.calls_matching(endpoint="inventory.bulk_upsert")) == 3
    assert sandbox.stock_of("shop-a", "bulk", "V899") == 9


def test_unknown_sku_relative_change_surfaces_rms_code_per_row(sandbox, make_client):
    client = make_client()
    with pytest.raises(RmsBadRequest) as caught:
        client.inventory_bulk_upsert(
            [
                InventoryUpdate("ce1111", "CE1111", 5),
                InventoryUpdate("nosuch", "NoSuch-1", -1, InventoryMode.RELATIVE),
            ]
        )
    detail = caught.value.details[0]
    assert (detail.code, detail.row) == ("IE0500", 1)
    assert caught.value.status == 400
    # RMS applies nothing of a refused request.
    assert sandbox.stock_of("shop-a", "ce1111", "CE1111") == 100


def test_unknown_sku_absolute_push_is_accepted_and_only_a_read_back_shows_it(sandbox, make_client):
    client = make_client()
    before = dt.datetime.now(JST).replace(microsecond=0)
    client.inventory_bulk_upsert([InventoryUpdate("nosuch", "NoSuch-1", 4)])
    (record,) = client.inventory_bulk_get([VariantKey("nosuch", "NoSuch-1")])
    assert record.quantity == 4
    assert record.created >= before  # the row did not exist before this push
    listed = {item.manage_number for item in client.items_search()}
    assert "nosuch" not in listed


def test_quantity_over_99999_is_refused_before_any_call(sandbox, make_client):
    with pytest.raises(RmsRequestInvalid) as caught:
        make_client().inventory_bulk_upsert(
            [InventoryUpdate("ce1111", "CE1111", 5), InventoryUpdate("ce1111", "X", 100_000)]
        )
    assert caught.value.details[0].code == "IE0003"
    assert caught.value.details[0].row == 1
    assert sandbox.calls_matching() == []


def test_items_search_walks_the_catalogue_with_cursor_mark(sandbox, make_client):
    for i in range(7):
        sandbox.item_add("shop-a", {"manageNumber": f"extra{i}", "variants": [{"variantId": "A"}]})
    items = list(make_client().items_search(hits=3))
    assert len(items) == 10
    assert len({item.manage_number for item in items}) == 10
    shirt = next(item for item in items if item.manage_number == "tshirt-red")
    assert {v.variant_id: v.merchant_sku_id for v in shirt.variants} == {
        "Tshirt-RED-M": "TRM",
        "Tshirt-RED-L": "Tshirt-RED-L",
    }
    # 10 items in pages of 3: 4 pages, then the page whose cursor comes back unchanged.
    assert len(sandbox.calls_matching(endpoint="items.search")) == 5


def test_items_search_refused_without_the_item_api(sandbox, make_client):
    sandbox.shops["shop-a"].item_api = False
    with pytest.raises(RmsAuthError):
        list(make_client().items_search())


def test_licence_expiry_and_expired_key(sandbox, make_client):
    expiry = make_client().license_expiry()
    assert 89 <= expiry.days_left() <= 90
    sandbox.shops["shop-a"].license_expires_at = NOW - DAY
    with pytest.raises(RmsAuthError) as caught:
        make_client().license_expiry()
    assert caught.value.license_expired
    assert len(sandbox.calls_matching(endpoint="license.expiry")) == 2  # no retry


def test_bad_credentials_are_a_typed_error_without_retry(sandbox, make_client):
    client = make_client(service_secret="SP-wrong")
    with pytest.raises(RmsAuthError) as caught:
        client.search_orders(NOW - DAY, NOW)
    assert caught.value.status == 401
    assert not caught.value.license_expired
    assert caught.value.codes == ["ES01-01"]
    assert len(sandbox.calls_matching()) == 1


def test_injected_401_is_not_retried(sandbox, make_client):
    sandbox.fault_add("inventory.bulk_get", "401", 5)
    with pytest.raises(RmsAuthError):
        make_client().inventory_bulk_get([VariantKey("ce1111", "CE1111")])
    assert [c.status for c in sandbox.calls_matching()] == [401]


def test_a_429_storm_backs_off_and_succeeds(sandbox, make_client):
    sandbox.fault_add("order.search", "429", 3, retry_after=0.05)
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        time.sleep(seconds)

    result = make_client(sleep=sleep).search_orders(NOW - DAY, NOW)
    assert result.total == 0
    assert [c.status for c in sandbox.calls_matching()] == [429, 429, 429, 200]
    # Retry-After (0.05 s) wins over the shorter backoff, then the backoff doubles past it.
    assert sleeps == [0.05, 0.05, 0.05]


def test_a_storm_longer_than_the_retries_raises_rate_limited(sandbox, make_client):
    sandbox.fault_add("order.search", "429", 10, retry_after=0.01)
    with pytest.raises(RmsRateLimited):
        make_client(max_retries=2).search_orders(NOW - DAY, NOW)
    assert len(sandbox.calls_matching()) == 3


def test_threads_sharing_a_shop_stay_within_its_rate_limit(sandbox, make_client):
    sandbox.rate_limits["inventory.bulk_get"] = 10
    client = make_client(rate_limits={"inventory.bulk_get": 10}, max_retries=0)
    errors = []

    def work():
        for _ in range(6):
            try:
                client.inventory_bulk_get([VariantKey("ce1111", "CE1111")])
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    calls = sandbox.calls_matching(endpoint="inventory.bulk_get")
    assert [c.status for c in calls] == [200] * 24
    # 24 calls, at most 10 in any second: the 21st cannot start before 2 s.
    assert time.monotonic() - started >= 2.0


def test_500_then_success_is_retried(sandbox, make_client):
    sandbox.fault_add("inventory.bulk_upsert", "500", 2)
    make_client().inventory_bulk_upsert([InventoryUpdate("ce1111", "CE1111", 9)])
    assert [c.status for c in sandbox.calls_matching()] == [500, 500, 204]
    assert sandbox.stock_of("shop-a", "ce1111", "CE1111") == 9


def test_relative_change_is_not_retried_after_a_500(sandbox, make_client):
    sandbox.fault_add("inventory.bulk_upsert", "500", 1)
    with pytest.raises(RmsServerError):
        make_client().inventory_bulk_upsert(
            [InventoryUpdate("ce1111", "CE1111", -1, InventoryMode.RELATIVE)]
        )
    assert len(sandbox.calls_matching()) == 1


def test_conflict_409_is_retried_even_for_relative_changes(sandbox, make_client):
    sandbox.fault_add("inventory.bulk_upsert", "409", 1)
    make_client().inventory_bulk_upsert(
        [InventoryUpdate("ce1111", "CE1111", -1, InventoryMode.RELATIVE)]
    )
    assert sandbox.stock_of("shop-a", "ce1111", "CE1111") == 99


def test_timeout_is_retried_then_raised(sandbox, make_client):
    client = make_client(timeout=(1.0, 0.3), max_retries=1)
    sandbox.fault_add("license.expiry", "hang", 1)
    assert client.license_expiry().days_left() >= 89
    sandbox.fault_add("license.expiry", "hang", 2)
    with pytest.raises(RmsTimeout):
        client.license_expiry()


def test_malformed_body_is_a_typed_error(sandbox, make_client):
    sandbox.fault_add("order.search", "malformed", 1)
    with pytest.raises(RmsMalformedResponse):
        make_client().search_orders(NOW - DAY, NOW)


def test_credentials_never_reach_the_log(sandbox, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(timeout=(1.0, 0.2), max_retries=0)
    sandbox.fault_add("license.expiry", "hang", 1)
    with pytest.raises(RmsTimeout) as caught:
        client.license_expiry()
    client.license_expiry()  # a successful call: urllib3 logs its request line at DEBUG
    assert "license.expiry" in caplog.text
    assert "licenseKey=***" in caplog.text
    for secret in (KEY, SECRET, client._authorization):
        assert secret not in caplog.text
        assert secret not in str(caught.value)
        assert secret not in repr(client)


def test_connection_refused_is_a_server_error(sandbox, make_client):
    client = make_client(base_url="http://127.0.0.1:9", max_retries=1)
    with pytest.raises(RmsServerError) as caught:
        client.license_expiry()
    assert KEY not in str(caught.value)


def test_sandbox_insists_on_the_exact_content_type(sandbox_server):
    import base64

    auth = "ESA " + base64.b64encode(f"{SECRET}:{KEY}".encode()).decode()
    url = sandbox_server.url + "/es/2.0/inventories/bulk-get"
    body = '{"inventories": [{"manageNumber": "ce1111", "variantId": "CE1111"}]}'
    for content_type in ("application/json", "application/json; charset=utf-8"):
        answer = requests.post(
            url, data=body, headers={"Authorization": auth, "Content-Type": content_type}, timeout=5
        )
        assert answer.status_code == 415
        assert answer.json()["Results"]["errorCode"] == "ES04-03"
    answer = requests.post(
        url,
        data=body,
        headers={"Authorization": auth, "Content-Type": "application/json;charset=utf-8"},
        timeout=5,
    )
    assert answer.json()["inventories"][0]["quantity"] == 100
    # The seed's endpoints do not exist on RMS.
    assert requests.post(sandbox_server.url + "/es/2.0/inventory/set", timeout=5).status_code == 404
