"""Spec 001's Purchasing API (/api/aggregation/purchasing/): the spec's fields, filters,
search, ordering, pages and soft delete; its bearer token (and the API's user tokens with
the purchasing permissions); worker claims; items and the arrival rule; and the spec's
own `requests` examples against a live server."""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from events.actors import Actor
from events.models import AuditLog, EventSource, EventType, InventoryEvent, InventorySnapshot
from events.selectors import snapshot_drift
from events.services import stock_adjust
from purchasing.models import InventoryItem, Purchasing
from purchasing.services import (
    item_add,
    official_account_create,
    purchase_claim,
    purchase_create,
    purchase_delete,
)

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db

URL = "/api/aggregation/purchasing/"
TOKEN = "batch-stats-test-token-0123456789"
ACTOR = Actor.system("test")
UUID_RE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{8}){5}$")
INVALID = {"detail": "Invalid token"}

# The spec's list / detail example (one purchase): its keys and the type of each value.
SPEC_PURCHASE = {
    "id": 1,
    "uuid": "1a2b3c4d-5e6f7a8b-9c0d1e2f-3a4b5c6d-7e8f9a0b-1c2d3e4f...",
    "order_number": "ORD20250110001",
    "official_account": 1,
    "official_account_display": {
        "id": 1,
        "account_id": "ACC001",
        "email": "user@example.com",
        "name": "张三",
    },
    "batch_encoding": "BATCH-2025-01",
    "batch_level_1": "LEVEL-1",
    "batch_level_2": "LEVEL-2",
    "batch_level_3": "LEVEL-3",
    "created_at": "2025-01-10T09:00:00Z",
    "confirmed_at": "2025-01-10T10:00:00Z",
    "shipped_at": "2025-01-11T08:00:00Z",
    "estimated_website_arrival_date": "2025-01-15",
    "estimated_website_arrival_date_2": None,
    "tracking_number": "TRACK123456",
    "estimated_delivery_date": "2025-01-15",
    "shipping_method": "DHL",
    "official_query_url": "https://example.com/track/TRACK123456",
    "delivery_status": "in_delivery",
    "delivery_status_display": "配送中",
    "latest_delivery_status": "配送中",
    "delivery_status_query_time": "2025-01-12T13:30:00Z",
    "delivery_status_query_source": "yamato_tracking",
    "last_info_updated_at": "2025-01-12T14:00:00Z",
    "account_used": "user@example.com",
    "payment_method": "credit_card",
    "inventory_count": 3,
    "inventory_items": [
        {
            "id": 1,
            "uuid": "abc123...",
            "flag": "FLAG001",
            "status": "in_transit",
            "product_type": "iPhone",
            "created_at": "2025-01-10T09:30:00Z",
        },
        {
            "id": 2,
            "uuid": "def456...",
            "flag": "FLAG002",
            "status": "arrived",
            "product_type": "iPhone",
            "created_at": "2025-01-10T09:31:00Z",
        },
        {
            "id": 3,
            "uuid": "ghi789...",
            "flag": "FLAG003",
            "status": "in_transit",
            "product_type": "iPad",
            "created_at": "2025-01-10T09:32:00Z",
        },
    ],
    "is_locked": False,
    "locked_at": None,
    "locked_by_worker": "",
    "is_deleted": False,
    "creation_source": "api",
    "updated_at": "2025-01-12T14:00:00Z",
}
# The spec's create example: its body, and its response.
SPEC_CREATE_BODY = {
    "order_number": "ORD20250115001",
    "official_account": 1,
    "batch_encoding": "BATCH-2025-01",
    "estimated_website_arrival_date": "2025-01-20",
    "shipping_method": "Express",
    "official_query_url": "https://example.com/track/order",
    "delivery_status": "pending_confirmation",
    "payment_method": "credit_card",
    "account_used": "user@example.com",
}
SPEC_CREATED = {
    "id": 2,
    "uuid": "2b3c4d5e-6f7a8b9c-0d1e2f3a-4b5c6d7e-8f9a0b1c-2d3e4f5a...",
    "order_number": "ORD20250115001",
    "official_account": 1,
    "official_account_display": {
        "id": 1,
        "account_id": "ACC001",
        "email": "user@example.com",
        "name": "张三",
    },
    "batch_encoding": "BATCH-2025-01",
    "batch_level_1": "",
    "batch_level_2": "",
    "batch_level_3": "",
    "created_at": "2025-01-12T10:00:00Z",
    "confirmed_at": None,
    "shipped_at": None,
    "estimated_website_arrival_date": "2025-01-20",
    "estimated_website_arrival_date_2": None,
    "tracking_number": "",
    "estimated_delivery_date": None,
    "shipping_method": "Express",
    "official_query_url": "https://example.com/track/order",
    "delivery_status": "pending_confirmation",
    "delivery_status_display": "等待确认",
    "latest_delivery_status": None,
    "delivery_status_query_time": None,
    "delivery_status_query_source": None,
    "last_info_updated_at": None,
    "account_used": "user@example.com",
    "payment_method": "credit_card",
    "inventory_count": 0,
    "inventory_items": [],
    "is_locked": False,
    "locked_at": None,
    "locked_by_worker": "",
    "is_deleted": False,
    "creation_source": None,
    "updated_at": "2025-01-12T10:00:00Z",
}
# Differs from run to run; compared by shape only.
VOLATILE = {"id", "uuid", "official_account", "created_at", "updated_at"}
OUR_ITEM_KEYS = {"sku_id", "quantity"}  # our additions to the spec's item


def assert_shaped_as(actual: dict, example: dict) -> None:
    """Every key of the spec's example, each value of its type (null where it has null
    may be anything nullable; a date-time ends in Z as the spec's do)."""
    assert set(actual) == set(example), set(actual) ^ set(example)
    for key, value in example.items():
        if value is None:
            continue
        assert isinstance(actual[key], type(value)) or actual[key] is None, key
        if isinstance(value, str) and value.endswith("Z") and actual[key]:
            assert actual[key].endswith("Z"), (key, actual[key])
    for item in actual["inventory_items"]:
        assert set(item) == set(example["inventory_items"][0]) | OUR_ITEM_KEYS
        assert isinstance(item["id"], int)
        assert isinstance(item["uuid"], str)
        assert isinstance(item["created_at"], str)
    if actual["official_account_display"] is not None:
        assert set(actual["official_account_display"]) == {"id", "account_id", "email", "name"}


def bearer_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


@pytest.fixture
def api(world, settings) -> APIClient:
    settings.BATCH_STATS_API_TOKEN = TOKEN
    return bearer_client()


@pytest.fixture
def account(world):
    return official_account_create(
        account_id="ACC001", email="user@example.com", name="张三", actor=ACTOR
    )


def spec_purchase(account, **overrides):
    """The spec's example purchase, with its three items."""
    fields = {
        "order_number": "ORD20250110001",
        "official_account": account,
        "batch_encoding": "BATCH-2025-01",
        "batch_level_1": "LEVEL-1",
        "batch_level_2": "LEVEL-2",
        "batch_level_3": "LEVEL-3",
        "confirmed_at": dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC),
        "shipped_at": dt.datetime(2025, 1, 11, 8, tzinfo=dt.UTC),
        "estimated_website_arrival_date": dt.date(2025, 1, 15),
        "tracking_number": "TRACK123456",
        "estimated_delivery_date": dt.date(2025, 1, 15),
        "shipping_method": "DHL",
        "official_query_url": "https://example.com/track/TRACK123456",
        "delivery_status": "in_delivery",
        "latest_delivery_status": "配送中",
        "delivery_status_query_time": dt.datetime(2025, 1, 12, 13, 30, tzinfo=dt.UTC),
        "delivery_status_query_source": "yamato_tracking",
        "last_info_updated_at": dt.datetime(2025, 1, 12, 14, tzinfo=dt.UTC),
        "account_used": "user@example.com",
        "payment_method": "credit_card",
        "creation_source": "api",
        **overrides,
    }
    purchase = purchase_create(actor=ACTOR, **fields)
    for flag, status, product_type in [
        ("FLAG001", "in_transit", "iPhone"),
        ("FLAG002", "arrived", "iPhone"),
        ("FLAG003", "in_transit", "iPad"),
    ]:
        item_add(
            purchase_id=purchase.pk,
            actor=ACTOR,
            flag=flag,
            status=status,
            product_type=product_type,
        )
    return purchase


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- reads ---------------------------------------------------------------------------------


class TestReads:
    def test_the_list_answers_as_the_spec_shows_it(self, api, account):
        purchase = spec_purchase(account)
        body = api.get(URL).json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert (body["count"], body["next"], body["previous"]) == (1, None, None)
        (row,) = body["results"]
        assert_shaped_as(row, SPEC_PURCHASE)
        assert row["id"] == purchase.pk
        assert UUID_RE.match(row["uuid"])
        assert row["official_account_display"] == {
            "id": account.pk,
            "account_id": "ACC001",
            "email": "user@example.com",
            "name": "张三",
        }
        # Every value of the spec's example but the generated ones.
        expected = copy.deepcopy({k: v for k, v in SPEC_PURCHASE.items() if k not in VOLATILE})
        expected["delivery_status_display"] = "in delivery"  # English by default
        expected["official_account_display"]["id"] = account.pk
        got = {k: v for k, v in row.items() if k not in VOLATILE}
        for item, spec_item in zip(
            got["inventory_items"], expected["inventory_items"], strict=True
        ):
            for key in ("flag", "status", "product_type"):
                assert item[key] == spec_item[key]
            assert item["sku_id"] is None
            assert item["quantity"] == 1
        got.pop("inventory_items")
        expected.pop("inventory_items")
        assert got == expected

    def test_the_status_label_is_in_the_requests_language(self, api, account):
        purchase = spec_purchase(account)
        row = api.get(f"{URL}{purchase.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
        assert row["delivery_status_display"] == "配送中"
        assert api.get(f"{URL}{purchase.pk}/", HTTP_ACCEPT_LANGUAGE="ja").json()[
            "delivery_status_display"
        ] not in ("", "in_delivery")

    def test_retrieve_and_unknown_ids(self, api, account):
        purchase = spec_purchase(account)
        row = api.get(f"{URL}{purchase.pk}/").json()
        assert_shaped_as(row, SPEC_PURCHASE)
        assert row["inventory_count"] == 3
        assert api.get(f"{URL}{purchase.pk + 100}/").status_code == 404
        assert api.get(f"{URL}abc/").status_code == 404
        assert api.get(f"{URL}{'9' * 19}/").status_code == 404

    def test_a_purchase_without_account_shows_null(self, api):
        purchase = purchase_create(actor=ACTOR)
        row = api.get(f"{URL}{purchase.pk}/").json()
        assert row["official_account"] is None
        assert row["official_account_display"] is None
        assert row["inventory_items"] == []
        assert row["order_number"] is None


FILTERS = [
    ("delivery_status", "shipped", {"delivery_status": "shipped"}),
    ("payment_method", "credit_card", {"payment_method": "credit_card"}),
    ("order_number", "ORD123", {"order_number": "ORD123"}),
    ("tracking_number", "TRACK123", {"tracking_number": "TRACK123"}),
    ("batch_encoding", "BATCH-2025", {"batch_encoding": "BATCH-2025"}),
    ("batch_level_1", "LEVEL1", {"batch_level_1": "LEVEL1"}),
    ("batch_level_2", "LEVEL2", {"batch_level_2": "LEVEL2"}),
    ("batch_level_3", "LEVEL3", {"batch_level_3": "LEVEL3"}),
    ("creation_source", "API", {"creation_source": "API"}),
]


class TestFilters:
    @pytest.mark.parametrize(("param", "value", "fields"), FILTERS)
    def test_each_of_the_specs_filters(self, api, param, value, fields):
        hit = purchase_create(actor=ACTOR, **fields)
        other_values = {key: f"{v}-other" for key, v in fields.items()}
        if param == "delivery_status":
            other_values = {"delivery_status": "delivered"}
        purchase_create(actor=ACTOR, **other_values)
        purchase_create(actor=ACTOR)
        assert ids(api.get(URL, {param: value})) == [hit.pk]
        # Exact: a part of the value matches nothing.
        if param != "delivery_status":
            assert ids(api.get(URL, {param: value[:-1]})) == []

    def test_by_official_account(self, api, account):
        mine = purchase_create(actor=ACTOR, official_account=account)
        purchase_create(actor=ACTOR)
        assert ids(api.get(URL, {"official_account": account.pk})) == [mine.pk]
        assert ids(api.get(URL, {"official_account": account.pk + 1})) == []
        assert api.get(URL, {"official_account": "x"}).status_code == 400

    def test_by_lock(self, api):
        first = purchase_create(actor=ACTOR)
        second = purchase_create(actor=ACTOR)
        purchase_claim(worker="w1", limit=1)
        assert ids(api.get(URL, {"is_locked": "true"})) == [first.pk]
        assert ids(api.get(URL, {"is_locked": "false"})) == [second.pk]

    def test_a_bad_status_is_refused(self, api):
        response = api.get(URL, {"delivery_status": "lost"})
        assert response.status_code == 400
        assert "delivery_status" in response.json()["errors"]

    def test_search_over_the_specs_fields(self, api):
        a = purchase_create(actor=ACTOR, order_number="ORD20250120001")
        b = purchase_create(actor=ACTOR, tracking_number="TRACK789")
        c = purchase_create(actor=ACTOR, account_used="buyer@example.com")
        d = purchase_create(actor=ACTOR, batch_encoding="BATCH-XYZ")
        e = purchase_create(actor=ACTOR, payment_method="ORD2025 card")  # not searched
        assert ids(api.get(URL, {"search": "ORD2025"})) == [a.pk]
        assert ids(api.get(URL, {"search": "track789"})) == [b.pk]
        assert ids(api.get(URL, {"search": "buyer@"})) == [c.pk]
        assert ids(api.get(URL, {"search": "xyz"})) == [d.pk]
        assert ids(api.get(URL, {"search": e.uuid[9:20]})) == [e.pk]
        assert ids(api.get(URL, {"search": "nothing-like-it"})) == []


class TestOrderingAndPages:
    def test_newest_first_by_default_and_any_allowed_ordering(self, api):
        rows = [purchase_create(actor=ACTOR, order_number=f"ORD-{n}") for n in (2, 3, 1)]
        item_add(purchase_id=rows[2].pk, actor=ACTOR)
        newest_first = [p.pk for p in reversed(rows)]
        assert ids(api.get(URL)) == newest_first  # same created_at: by id, newest first
        assert ids(api.get(URL, {"ordering": "-created_at"})) == newest_first
        assert ids(api.get(URL, {"ordering": "created_at"})) == newest_first[::-1]
        assert ids(api.get(URL, {"ordering": "order_number"})) == [
            rows[2].pk,
            rows[0].pk,
            rows[1].pk,
        ]
        assert ids(api.get(URL, {"ordering": "-inventory_count"}))[0] == rows[2].pk
        # A field not offered is ignored (the default order).
        assert ids(api.get(URL, {"ordering": "payment_method"})) == newest_first

    def test_pages(self, api):
        rows = [purchase_create(actor=ACTOR) for _ in range(5)]
        first = api.get(URL, {"page_size": 2}).json()
        assert first["count"] == 5
        assert first["previous"] is None
        assert "page=2" in first["next"]
        second = api.get(first["next"]).json()
        assert second["previous"] is not None
        third = api.get(URL, {"page_size": 2, "page": 3}).json()
        assert third["next"] is None
        seen = [r["id"] for page in (first, second, third) for r in page["results"]]
        assert seen == [p.pk for p in reversed(rows)]
        assert api.get(URL, {"page_size": 2, "page": 4}).status_code == 404


# --- writes --------------------------------------------------------------------------------


class TestCreate:
    def test_the_specs_create_example(self, api, account):
        spec_purchase(account)  # the spec's purchase 1; this one is 2
        body = {**SPEC_CREATE_BODY, "official_account": account.pk}
        response = api.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 201, response.content
        created = response.json()
        assert_shaped_as(created, SPEC_CREATED)
        expected = copy.deepcopy({k: v for k, v in SPEC_CREATED.items() if k not in VOLATILE})
        expected["official_account_display"]["id"] = account.pk
        assert {k: v for k, v in created.items() if k not in VOLATILE} == expected
        assert created["official_account"] == account.pk
        assert UUID_RE.match(created["uuid"])
        purchase = Purchasing.objects.get(pk=created["id"])
        assert purchase.order_number == "ORD20250115001"
        audit = AuditLog.objects.filter(action="purchase.create").latest("created_at")
        assert audit.user == "batch-stats-api"

    def test_an_empty_body_creates_a_purchase_without_order_number(self, api):
        created = api.post(URL, {}, format="json").json()
        assert created["order_number"] is None
        assert created["delivery_status"] == "pending_confirmation"

    def test_order_numbers_may_repeat(self, api):
        for _ in range(2):
            assert api.post(URL, {"order_number": "SAME"}, format="json").status_code == 201
        assert len(ids(api.get(URL, {"order_number": "SAME"}))) == 2

    @pytest.mark.parametrize(
        "field",
        ["id", "uuid", "is_locked", "locked_by_worker", "is_deleted", "inventory_count"],
    )
    def test_read_only_fields_are_refused_naming_them(self, api, field):
        response = api.post(URL, {"order_number": "X", field: 1}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "read_only"
        assert list(body["errors"]) == [field]
        assert field in body["errors"][field][0]
        assert not Purchasing.objects.exists()

    def test_unknown_fields_and_bad_values_are_refused(self, api, account):
        response = api.post(URL, {"price": 3}, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["price"]
        bad = {
            "official_account": account.pk + 50,
            "delivery_status": "lost",
            "order_number": "x" * 51,
            "latest_delivery_status": "x" * 11,
            "shipped_at": "yesterday",
            "estimated_delivery_date": "2025-02-30",
        }
        response = api.post(URL, bad, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == set(bad)
        assert api.post(URL, [1, 2], format="json").status_code == 400
        assert not Purchasing.objects.exists()


class TestUpdate:
    def test_the_specs_patch_example(self, api, account):
        purchase = spec_purchase(account)
        response = api.patch(
            f"{URL}{purchase.pk}/",
            {"delivery_status": "delivered", "last_info_updated_at": "2025-01-15T16:00:00Z"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        assert response.status_code == 200, response.content
        row = response.json()
        assert_shaped_as(row, SPEC_PURCHASE)
        assert row["delivery_status"] == "delivered"
        assert row["delivery_status_display"] == "已送达"
        assert row["last_info_updated_at"] == "2025-01-15T16:00:00Z"
        assert row["order_number"] == "ORD20250110001"  # untouched
        audit = AuditLog.objects.filter(action="purchase.update").latest("created_at")
        assert audit.details["changes"]["delivery_status"] == ["in_delivery", "delivered"]

    def test_times_with_an_offset_are_stored_and_shown_in_utc(self, api):
        purchase = purchase_create(actor=ACTOR)
        row = api.patch(
            f"{URL}{purchase.pk}/", {"shipped_at": "2025-01-20T18:00:00+09:00"}, format="json"
        ).json()
        assert row["shipped_at"] == "2025-01-20T09:00:00Z"
        far = api.patch(
            f"{URL}{purchase.pk}/", {"shipped_at": "0001-01-01T00:00:00+14:00"}, format="json"
        )
        assert far.status_code == 400

    @pytest.mark.parametrize(
        ("field", "value"),
        [("uuid", "x"), ("is_deleted", False), ("locked_at", None), ("created_at", "2025")],
    )
    def test_read_only_fields_are_refused(self, api, field, value):
        purchase = purchase_create(actor=ACTOR, order_number="KEEP")
        response = api.patch(
            f"{URL}{purchase.pk}/", {field: value, "order_number": "CHANGED"}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]
        purchase.refresh_from_db()
        assert purchase.order_number == "KEEP"

    def test_clearing_and_unknown(self, api, account):
        purchase = purchase_create(actor=ACTOR, official_account=account, tracking_number="T1")
        row = api.patch(
            f"{URL}{purchase.pk}/",
            {"official_account": None, "tracking_number": "", "order_number": None},
            format="json",
        ).json()
        assert row["official_account"] is None
        assert row["official_account_display"] is None
        assert row["tracking_number"] == ""
        # A NOT NULL column (the spec's table) takes "", not null.
        refused = api.patch(f"{URL}{purchase.pk}/", {"tracking_number": None}, format="json")
        assert list(refused.json()["errors"]) == ["tracking_number"]
        assert api.patch(f"{URL}999999/", {}, format="json").status_code == 404
        assert api.put(f"{URL}{purchase.pk}/", {}, format="json").status_code == 405


class TestSoftDelete:
    def test_delete_hides_and_is_deleted_shows(self, api, account):
        purchase = spec_purchase(account)
        live = purchase_create(actor=ACTOR)
        response = api.delete(f"{URL}{purchase.pk}/")
        assert response.status_code == 204
        assert response.content == b""
        assert ids(api.get(URL)) == [live.pk]
        assert ids(api.get(URL, {"is_deleted": "false"})) == [live.pk]
        assert ids(api.get(URL, {"is_deleted": "true"})) == [purchase.pk]
        row = api.get(f"{URL}{purchase.pk}/").json()
        assert row["is_deleted"] is True
        assert row["inventory_count"] == 3  # its rows are kept
        assert InventoryItem.objects.filter(purchase=purchase).count() == 3
        # Again: nothing changes; an unknown id: 404.
        assert api.delete(f"{URL}{purchase.pk}/").status_code == 204
        assert AuditLog.objects.filter(action="purchase.delete").count() == 1
        assert api.delete(f"{URL}{purchase.pk + 100}/").status_code == 404

    def test_search_and_filters_skip_deleted_ones_too(self, api):
        gone = purchase_create(actor=ACTOR, order_number="ORD1")
        purchase_delete(purchase_id=gone.pk, actor=ACTOR)
        assert ids(api.get(URL, {"search": "ORD1"})) == []
        assert ids(api.get(URL, {"order_number": "ORD1"})) == []
        assert ids(api.get(URL, {"order_number": "ORD1", "is_deleted": "true"})) == [gone.pk]


# --- auth ----------------------------------------------------------------------------------


class TestAuth:
    def assert_invalid(self, response):
        assert response.status_code == 401
        assert response.json() == INVALID
        assert response["WWW-Authenticate"] == "Bearer"

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_missing_wrong_or_unconfigured_token(self, world, settings, method):
        settings.BATCH_STATS_API_TOKEN = TOKEN
        call = lambda client: getattr(client, method)(URL, {}, format="json")  # noqa: E731
        self.assert_invalid(call(APIClient()))
        for header in (f"Bearer {TOKEN}x", "Bearer", f"Bearer {TOKEN} extra", "Bearer é"):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=header)
            self.assert_invalid(call(client))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
        self.assert_invalid(call(client))
        settings.BATCH_STATS_API_TOKEN = ""
        self.assert_invalid(call(bearer_client()))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer ")
        self.assert_invalid(call(client))
        assert not Purchasing.objects.exists()

    def test_every_endpoint_takes_the_token(self, api):
        purchase = purchase_create(actor=ACTOR)
        for path in (URL, f"{URL}{purchase.pk}/"):
            assert api.get(path).status_code == 200
            self.assert_invalid(APIClient().get(path))
        self.assert_invalid(APIClient().post(f"{URL}claim/", {"worker": "w"}, format="json"))
        self.assert_invalid(APIClient().delete(f"{URL}{purchase.pk}/"))

    def test_a_user_token_needs_the_purchasing_permissions(self, world, viewer, operator):
        purchase = purchase_create(actor=ACTOR)
        nobody = client_for(make_user(None, "nobody"))
        assert nobody.get(URL).status_code == 403
        assert nobody.get(URL).json()["code"] == "permission_denied"
        # A viewer reads, and nothing else.
        assert viewer.get(URL).status_code == 200
        assert viewer.get(f"{URL}{purchase.pk}/").status_code == 200
        assert viewer.post(URL, {}, format="json").status_code == 403
        assert viewer.patch(f"{URL}{purchase.pk}/", {}, format="json").status_code == 403
        assert viewer.delete(f"{URL}{purchase.pk}/").status_code == 403
        assert viewer.post(f"{URL}claim/", {"worker": "w"}, format="json").status_code == 403
        assert viewer.post(f"{URL}{purchase.pk}/items/", {}, format="json").status_code == 403
        # An operator writes, as themselves.
        created = operator.post(URL, {"order_number": "OP-1"}, format="json")
        assert created.status_code == 201
        audit = AuditLog.objects.filter(action="purchase.create").latest("created_at")
        assert audit.user == "operator-user"
        assert operator.delete(f"{URL}{purchase.pk}/").status_code == 204

    def test_a_non_staff_token_is_an_invalid_token(self, world):
        client = client_for(make_user("viewer", "ex-staff", staff=False))
        self.assert_invalid(client.get(URL))


# --- worker locks --------------------------------------------------------------------------


class TestClaims:
    def test_disjoint_claims_and_only_the_holder_releases(self, api):
        rows = [purchase_create(actor=ACTOR) for _ in range(4)]
        purchase_delete(purchase_id=rows[3].pk, actor=ACTOR)  # never claimed
        first = api.post(f"{URL}claim/", {"worker": "tracker-1", "limit": 2}, format="json")
        assert first.status_code == 200, first.content
        assert [r["id"] for r in first.json()] == [rows[0].pk, rows[1].pk]
        for row in first.json():
            assert_shaped_as(row, SPEC_PURCHASE)
            assert (row["is_locked"], row["locked_by_worker"]) == (True, "tracker-1")
            assert row["locked_at"].endswith("Z")
        second = api.post(f"{URL}claim/", {"worker": "tracker-2", "limit": 5}, format="json")
        assert [r["id"] for r in second.json()] == [rows[2].pk]
        assert api.post(f"{URL}claim/", {"worker": "tracker-3"}, format="json").json() == []
        # Someone else's lock: refused, the lock kept.
        refused = api.post(f"{URL}{rows[0].pk}/release/", {"worker": "tracker-2"}, format="json")
        assert refused.status_code == 409
        assert refused.json()["code"] == "lock_refused"
        assert "tracker-1" in refused.json()["detail"]
        assert Purchasing.objects.get(pk=rows[0].pk).is_locked
        released = api.post(f"{URL}{rows[0].pk}/release/", {"worker": "tracker-1"}, format="json")
        assert released.status_code == 200
        assert (released.json()["is_locked"], released.json()["locked_by_worker"]) == (False, "")
        again = api.post(f"{URL}{rows[0].pk}/release/", {"worker": "tracker-1"}, format="json")
        assert again.status_code == 409
        assert ids(api.get(URL, {"is_locked": "true"})) == [rows[2].pk, rows[1].pk]

    def test_claim_by_status_and_bad_input(self, api):
        shipped = purchase_create(actor=ACTOR, delivery_status="shipped")
        purchase_create(actor=ACTOR, delivery_status="delivered")
        claimed = api.post(
            f"{URL}claim/",
            {"worker": "w", "limit": 10, "delivery_status": ["shipped", "in_delivery"]},
            format="json",
        ).json()
        assert [r["id"] for r in claimed] == [shipped.pk]
        for body in ({}, {"worker": ""}, {"worker": "w" * 51}, {"worker": "w", "limit": 0}):
            response = api.post(f"{URL}claim/", body, format="json")
            assert response.status_code == 400, body
        assert api.post(f"{URL}{shipped.pk}/release/", {}, format="json").status_code == 400
        assert (
            api.post(f"{URL}{shipped.pk + 99}/release/", {"worker": "w"}, format="json").status_code
            == 404
        )


# --- items and the arrival rule --------------------------------------------------------------


def receipts(sku_id: str = "tshirt-red-m"):
    return InventoryEvent.objects.filter(
        sku_id=sku_id, event_type__in=[EventType.RECEIPT, EventType.RECEIPT_REVERSED]
    )


def stock(sku_id: str = "tshirt-red-m") -> int:
    return InventorySnapshot.objects.get(sku_id=sku_id).internal_available


class TestItems:
    def test_an_arrival_adds_its_units_once(self, api):
        purchase = purchase_create(actor=ACTOR, order_number="ORD-ITEMS")
        added = api.post(
            f"{URL}{purchase.pk}/items/",
            {"sku_id": "Tshirt-RED-M", "quantity": 2, "flag": "F1", "product_type": "iPhone"},
            format="json",
        )
        assert added.status_code == 201, added.content
        item = added.json()
        assert set(item) == set(SPEC_PURCHASE["inventory_items"][0]) | OUR_ITEM_KEYS
        assert (item["status"], item["sku_id"], item["quantity"]) == (
            "in_transit",
            "tshirt-red-m",
            2,
        )
        assert not receipts().exists()
        before = stock()
        path = f"{URL}items/{item['id']}/"
        arrived = api.patch(path, {"status": "arrived"}, format="json")
        assert arrived.status_code == 200, arrived.content
        assert arrived.json()["status"] == "arrived"
        (event,) = receipts()
        assert (event.event_type, event.quantity, event.source) == (
            EventType.RECEIPT,
            2,
            EventSource.SYSTEM,
        )
        assert event.operator == "batch-stats-api"
        assert stock() == before + 2
        # A replay adds nothing.
        assert api.patch(path, {"status": "arrived"}, format="json").status_code == 200
        assert receipts().count() == 1
        assert stock() == before + 2
        # The purchase shows it.
        row = api.get(f"{URL}{purchase.pk}/").json()
        assert row["inventory_count"] == 1
        assert row["inventory_items"][0]["status"] == "arrived"
        # More units, then abnormal: corrected, then taken back.
        api.patch(path, {"quantity": 5}, format="json")
        assert stock() == before + 5
        api.patch(path, {"status": "abnormal"}, format="json")
        assert stock() == before
        assert [e.quantity for e in receipts().order_by("created_at", "event_id")] == [2, 3, -5]
        assert snapshot_drift(sku_ids=["tshirt-red-m"]) == []

    def test_items_marked_arrived_together(self, api):
        purchase = purchase_create(actor=ACTOR)
        items = [
            item_add(purchase_id=purchase.pk, actor=ACTOR, sku_id=sku, quantity=n)
            for sku, n in (("Tshirt-RED-M", 1), ("Mug-01", 3), (None, 1))
        ]
        before = (stock(), stock("mug-01"))
        body = {"ids": [i.pk for i in items]}
        response = api.post(f"{URL}items/arrived/", body, format="json")
        assert response.status_code == 200, response.content
        assert [r["status"] for r in response.json()] == ["arrived"] * 3
        assert (stock(), stock("mug-01")) == (before[0] + 1, before[1] + 3)
        assert api.post(f"{URL}items/arrived/", body, format="json").status_code == 200
        assert receipts().count() == 1
        assert receipts("mug-01").count() == 1
        assert snapshot_drift(sku_ids=["tshirt-red-m", "mug-01"]) == []
        # All or none: an unknown id changes nothing.
        fresh = item_add(purchase_id=purchase.pk, actor=ACTOR, sku_id="Mug-01")
        refused = api.post(
            f"{URL}items/arrived/", {"ids": [fresh.pk, fresh.pk + 999]}, format="json"
        )
        assert refused.status_code == 400
        assert "ids" in refused.json()["errors"]
        fresh.refresh_from_db()
        assert fresh.status == "in_transit"
        assert api.post(f"{URL}items/arrived/", {"ids": []}, format="json").status_code == 400

    def test_bad_items(self, api):
        purchase = purchase_create(actor=ACTOR)
        add = f"{URL}{purchase.pk}/items/"
        assert api.post(add, {"sku_id": "no-such-sku"}, format="json").status_code == 400
        assert api.post(add, {"quantity": 0}, format="json").status_code == 400
        assert api.post(add, {"status": "lost"}, format="json").status_code == 400
        assert api.post(f"{URL}{purchase.pk + 9}/items/", {}, format="json").status_code == 404
        item = api.post(add, {}, format="json").json()
        assert (item["sku_id"], item["quantity"], item["status"]) == (None, 1, "in_transit")
        assert api.patch(f"{URL}items/{item['id'] + 9}/", {}, format="json").status_code == 404
        purchase_delete(purchase_id=purchase.pk, actor=ACTOR)
        assert api.post(add, {}, format="json").status_code == 400  # a deleted purchase

    def test_taking_back_sold_units_is_refused(self, api):
        purchase = purchase_create(actor=ACTOR)
        item = item_add(
            purchase_id=purchase.pk, actor=ACTOR, sku_id="Mug-01", quantity=2, status="arrived"
        )
        stock_adjust(sku_id="mug-01", quantity=-stock("mug-01"), reason="sold", actor=ACTOR)
        response = api.patch(f"{URL}items/{item.pk}/", {"status": "abnormal"}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "oversell_refused"
        item.refresh_from_db()
        assert item.status == "arrived"


# --- queries -------------------------------------------------------------------------------


def test_the_lists_queries_do_not_grow_with_its_rows(world, settings):
    settings.BATCH_STATS_API_TOKEN = TOKEN
    boss = make_user(None, "boss")
    boss.is_superuser = True
    boss.save()
    account = official_account_create(account_id="ACC-Q", actor=ACTOR)
    counts = []
    for total in (2, 12):
        while Purchasing.objects.count() < total:
            purchase = purchase_create(actor=ACTOR, official_account=account)
            for _ in range(3):
                item_add(purchase_id=purchase.pk, actor=ACTOR, sku_id="Mug-01")
        for client in (client_for(boss), bearer_client()):
            with CaptureQueriesContext(connection) as queries:
                body = client.get(URL).json()
            assert len(body["results"]) == total
            assert all(len(row["inventory_items"]) == 3 for row in body["results"])
            counts.append(len(queries))
    assert counts[0:2] == counts[2:4], counts


# --- the spec's own examples, against a live server ------------------------------------------


@pytest.fixture
def live(live_server, settings):
    """The server at its own address, the bearer token set, and the spec's official
    account 1 and purchase 1 (ids from 1: the sequences are reset)."""
    settings.BATCH_STATS_API_TOKEN = TOKEN
    account = official_account_create(
        account_id="ACC001", email="user@example.com", name="张三", actor=ACTOR
    )
    assert account.pk == 1
    purchase = spec_purchase(account)
    assert purchase.pk == 1
    return f"{live_server.url}/api/aggregation/purchasing/"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.django_db(transaction=True, reset_sequences=True)
class TestTheSpecsExamplesLive:
    def test_the_python_requests_examples(self, live):
        base_url = live

        # Without the header the spec's Authentication section asks for: its 401.
        response = requests.get(base_url, params={"delivery_status": "in_delivery"}, timeout=10)
        assert response.status_code == 401
        assert response.json() == INVALID
        assert response.headers["WWW-Authenticate"] == "Bearer"

        # 1. 获取列表（按状态过滤）
        response = requests.get(
            base_url, params={"delivery_status": "in_delivery"}, headers=AUTH, timeout=10
        )
        orders = response.json()
        assert response.status_code == 200
        assert set(orders) == {"count", "next", "previous", "results"}
        assert orders["count"] == 1
        assert_shaped_as(orders["results"][0], SPEC_PURCHASE)

        # 2. 创建采购订单
        new_order = {
            "order_number": "ORD20250120001",
            "official_account": 1,
            "delivery_status": "pending_confirmation",
            "payment_method": "credit_card",
        }
        response = requests.post(base_url, json=new_order, headers=AUTH, timeout=10)
        created_order = response.json()
        assert response.status_code == 201, created_order
        assert_shaped_as(created_order, SPEC_CREATED)
        assert created_order["id"] == 2
        assert created_order["official_account_display"]["account_id"] == "ACC001"

        # 3. 更新配送状态
        update_data = {
            "delivery_status": "shipped",
            "shipped_at": "2025-01-20T09:00:00Z",
            "tracking_number": "TRACK789",
        }
        response = requests.patch(
            f"{base_url}{created_order['id']}/", json=update_data, headers=AUTH, timeout=10
        )
        assert response.status_code == 200
        updated = response.json()
        assert {k: updated[k] for k in update_data} == update_data
        assert_shaped_as(updated, SPEC_CREATED)

        # 4. 搜索订单
        response = requests.get(base_url, params={"search": "ORD2025"}, headers=AUTH, timeout=10)
        assert [o["order_number"] for o in response.json()["results"]] == [
            "ORD20250120001",
            "ORD20250110001",
        ]

        # 获取采购订单详情（包含库存信息）
        response = requests.get(
            "http://your-domain.com/api/aggregation/purchasing/1/".replace(
                "http://your-domain.com/api/aggregation/purchasing/", base_url
            ),
            headers=AUTH,
            timeout=10,
        )
        order = response.json()
        lines = [f"订单 {order['order_number']} 共有 {order['inventory_count']} 件库存"]
        for item in order["inventory_items"]:
            lines.append(f"库存 {item['uuid'][:8]}... - {item['status']} - {item['product_type']}")
        assert lines[0] == "订单 ORD20250110001 共有 3 件库存"
        assert [line.split(" - ", 1)[1] for line in lines[1:]] == [
            "in_transit - iPhone",
            "arrived - iPhone",
            "in_transit - iPad",
        ]

    def test_the_endpoint_sections_examples(self, live):
        headers = {**AUTH, "Content-Type": "application/json", "Accept-Language": "zh-hans"}

        # 2. 创建采购订单: the body as the spec shows it.
        response = requests.post(live, json=SPEC_CREATE_BODY, headers=headers, timeout=10)
        assert response.status_code == 201
        created = response.json()
        assert_shaped_as(created, SPEC_CREATED)
        assert {k: v for k, v in created.items() if k not in VOLATILE} == {
            k: v for k, v in SPEC_CREATED.items() if k not in VOLATILE
        }
        assert created["id"] == 2
        assert created["official_account"] == 1

        # 3. 获取单个采购订单详情
        detail = requests.get(f"{live}1/", headers=headers, timeout=10).json()
        assert {k: v for k, v in detail.items() if k not in {"uuid", "updated_at"}} | {
            "inventory_items": None
        } == {
            k: v for k, v in SPEC_PURCHASE.items() if k not in {"uuid", "updated_at", "created_at"}
        } | {"created_at": detail["created_at"], "inventory_items": None}

        # 4. 更新采购订单（部分更新）
        response = requests.patch(
            f"{live}1/",
            json={"delivery_status": "delivered", "last_info_updated_at": "2025-01-15T16:00:00Z"},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200
        patched = response.json()
        assert_shaped_as(patched, SPEC_PURCHASE)
        assert (patched["delivery_status"], patched["delivery_status_display"]) == (
            "delivered",
            "已送达",
        )
        assert patched["last_info_updated_at"] == "2025-01-15T16:00:00Z"

        # 5. 删除采购订单
        response = requests.delete(f"{live}1/", headers=headers, timeout=10)
        assert response.status_code == 204
        assert response.content == b""
        listed = requests.get(live, headers=headers, timeout=10).json()
        assert [o["id"] for o in listed["results"]] == [2]
        deleted = requests.get(live, params={"is_deleted": "true"}, headers=headers, timeout=10)
        assert [o["id"] for o in deleted.json()["results"]] == [1]

        # The spec's auth failures, over the wire.
        for bad in ({}, {"Authorization": "Bearer wrong"}):
            response = requests.get(live, headers=bad, timeout=10)
            assert (response.status_code, response.json()) == (401, INVALID)


def test_other_paths_here_are_the_apis_json_404(api):
    for method in ("get", "post", "patch", "delete"):
        response = getattr(api, method)(f"{URL}%C2%84/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "x"
    assert client.patch(f"{URL}abc/", {}, format="json").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_over_http_are_disjoint(live_server, settings):
    """Four workers claim over HTTP at once, in a loop: each purchase is taken once."""
    settings.BATCH_STATS_API_TOKEN = TOKEN
    created = {purchase_create(actor=ACTOR).pk for _ in range(24)}
    url = f"{live_server.url}{URL}claim/"
    start = threading.Barrier(4)
    taken: list[int] = []
    errors: list[object] = []

    def worker(index: int) -> None:
        start.wait()
        with requests.Session() as session:
            while True:
                response = session.post(
                    url, json={"worker": f"w{index}", "limit": 3}, headers=AUTH, timeout=30
                )
                if response.status_code != 200:
                    errors.append(response.text)
                    return
                rows = response.json()
                if not rows:
                    return
                taken.extend(row["id"] for row in rows)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(taken) == sorted(created)
