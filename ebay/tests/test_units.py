"""eBay's parsing, the checks before any call, the binder and the order mapping."""

import datetime as dt

import pytest

from ebay import parse
from ebay.adapter import EbayBinder, order_snapshot
from ebay.client import EbayClient, sku_problem
from ebay.errors import EbayRequestInvalid
from ebay.types import LineItem, Order, QuantityUpdate
from sync.adapters import BindingInvalid


def test_payloads_kept_lose_every_money_field():
    raw = {
        "offerId": "1",
        "sku": "A",
        "pricingSummary": {"price": {"value": "9.99", "currency": "USD"}},
        "listing": {"listingId": "9", "soldQuantity": 2},
        "tax": {"applyTax": True},
        "listingPolicies": {"shippingCostOverrides": [{"shippingCost": {"value": "1"}}], "x": 1},
        "charity": [{"donationAmount": 1, "ok": True}],
    }
    assert parse.without_money(raw) == {
        "offerId": "1",
        "sku": "A",
        "listing": {"listingId": "9", "soldQuantity": 2},
        "listingPolicies": {"x": 1},
        "charity": [{"ok": True}],
    }
    assert "pricingSummary" not in parse.offer(raw).raw


def test_ebay_datetimes_are_utc_with_milliseconds():
    jst = dt.timezone(dt.timedelta(hours=9))
    assert (
        parse.ebay_datetime(dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=jst))
        == "2026-03-01T00:00:00.123Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        parse.ebay_datetime(dt.datetime(2026, 3, 1))


def test_a_207_is_read_entry_by_entry_and_an_unknown_shape_is_refused():
    results = parse.bulk_update(
        {
            "responses": [
                {"sku": "A", "offerId": "1", "statusCode": 200},
                {
                    "sku": "B",
                    "offerId": "2",
                    "statusCode": 400,
                    "errors": [{"errorId": 25709, "message": "Invalid value"}],
                },
                {"sku": "C", "statusCode": 500, "errors": [{"errorId": 25001, "message": "x"}]},
            ]
        }
    )
    assert [(r.sku, r.ok, r.retryable) for r in results] == [
        ("A", True, False),
        ("B", False, False),
        ("C", False, True),
    ]
    with pytest.raises(KeyError):
        parse.bulk_update({"result": []})
    with pytest.raises(TypeError):
        parse.bulk_update({"responses": [{"sku": "A", "statusCode": "200"}]})


@pytest.mark.parametrize(
    ("sku", "problem"),
    [
        ("Tshirt-RED.M_1", None),
        ("", "empty"),
        ("x" * 51, "longer than 50"),
        ("has space", "only letters"),
        ("スキュー", "only letters"),
        ("a/b", "only letters"),
    ],
)
def test_skus_eBay_would_refuse_are_named(sku, problem):
    found = sku_problem(sku)
    assert (found is None) if problem is None else (problem in found)


def client():
    return EbayClient(client_id="id", client_secret="secret", ru_name="ru", refresh_token="r")


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ([QuantityUpdate("A", -1)], "from 0"),
        ([QuantityUpdate("A b", 1)], "only letters"),
        ([QuantityUpdate(f"S{i}", 1) for i in range(26)], "At most 25"),
        ([], "Nothing to send"),
    ],
)
def test_bad_stock_updates_are_refused_before_any_call(updates, message):
    with pytest.raises(EbayRequestInvalid) as caught:
        client().bulk_update(updates)
    assert message in str(caught.value)


def test_the_consent_address_names_the_app_the_scopes_and_the_state():
    url = client().authorize_url("st8")
    assert url.startswith("https://auth.ebay.com/oauth2/authorize?client_id=id&redirect_uri=ru")
    assert "scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory%20" in url
    assert url.endswith("&state=st8")
    assert "secret" not in url


def test_an_app_without_its_keys_is_refused():
    with pytest.raises(EbayRequestInvalid, match="client_secret, ru_name"):
        EbayClient(client_id="id", client_secret="", ru_name="")


def test_binder_keeps_ebay_case_and_checks_offer_ids():
    binder = EbayBinder()
    assert binder.clean({"ebay_sku": " Ｔshirt-RED ", "offer_ids": "1, 2 2"}) == {
        "ebay_sku": "Tshirt-RED",
        "offer_ids": "1,2",
        "marketplace_id": "",
    }
    with pytest.raises(BindingInvalid, match="only letters"):
        binder.clean({"ebay_sku": "a b"})
    with pytest.raises(BindingInvalid, match="not one"):
        binder.clean({"ebay_sku": "A", "offer_ids": "1;2"})


def test_orders_map_to_snapshots():
    created = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    order = Order(
        order_id="01-1",
        created=created,
        last_modified=created,
        fulfillment_status="NOT_STARTED",
        payment_status="PAID",
        cancel_state="NONE_REQUESTED",
        lines=(
            LineItem("L1", "Tshirt-RED", 2),
            LineItem("L2", "", 1, legacy_item_id="111", legacy_variation_id="7"),
        ),
    )
    snapshot = order_snapshot(order)
    assert (snapshot.final, snapshot.cancelled, snapshot.confirmed) == (False, False, False)
    assert snapshot.status == "NOT_STARTED/NONE_REQUESTED"
    assert [(line.listing["ebay_sku"], line.units, line.line_id) for line in snapshot.lines] == [
        ("Tshirt-RED", 2, "L1"),
        ("", 1, "L2"),
    ]
    assert EbayBinder().label(snapshot.lines[1].listing) == "item 111 7"
    cancelled = order_snapshot(
        Order("01-2", created, created, "NOT_STARTED", "PAID", "CANCELED", order.lines)
    )
    assert (cancelled.final, cancelled.cancelled, cancelled.confirmed) == (True, True, False)
    shipped = order_snapshot(
        Order("01-3", created, created, "FULFILLED", "PAID", "NONE_REQUESTED", order.lines)
    )
    assert (shipped.final, shipped.cancelled) == (True, False)
