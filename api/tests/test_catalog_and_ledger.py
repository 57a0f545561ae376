"""Stores, SKUs, inventory, adjustments, the timeline, audit and oversell over the API:
success, the spec's bad inputs, permissions and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.actors import Actor
from events.models import AuditLog, InventoryEvent
from events.services import stock_adjust
from skus.models import Sku
from skus.services import sku_create
from stores.models import Store

pytestmark = pytest.mark.django_db


# --- stores -------------------------------------------------------------------------------


def test_stores_are_listed_with_masked_credentials(viewer):
    body = viewer.get("/api/stores").json()
    assert body["count"] == 1
    (store,) = body["results"]
    assert store["store_id"] == "tokyo"
    assert store["platform_type"] == "rakuten"
    assert store["registered_skus"] == 1
    assert "SP123456_verysecretvalue" not in str(body)
    assert set(store["credentials"]) == {"service_secret", "license_key"}


def test_an_admin_creates_a_store_and_its_secret_is_never_returned(admin, viewer):
    response = admin.post(
        "/api/stores",
        {
            "store_id": "fs-1",
            "store_name": "futureshop",
            "platform_type": "futureshop",
            "credentials": {"api_domain": "api.x.future-shop.jp", "client_secret": "top-secret-1"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "top-secret-1" not in response.content.decode()
    assert Store.objects.get(pk="fs-1").credentials()["client_secret"] == "top-secret-1"
    assert viewer.post("/api/stores", {}, format="json").status_code == 403
    duplicate = admin.post(
        "/api/stores",
        {"store_id": "fs-1", "store_name": "again", "platform_type": "futureshop"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] in ("invalid", "unique")


def test_a_store_and_its_registrations_with_platform_keys(viewer):
    assert viewer.get("/api/stores/tokyo").json()["store_name"] == "Tokyo"
    assert viewer.get("/api/stores/nowhere").status_code == 404
    rows = viewer.get("/api/stores/tokyo/skus").json()["results"]
    assert rows[0]["sku_id"] == "tshirt-red-m"
    assert rows[0]["keys"]["manage_number"] == "tshirt-red"
    assert rows[0]["keys"]["variant_id"] == "Tshirt-RED-M"


# --- SKUs -----------------------------------------------------------------------------------


def test_skus_are_listed_filtered_and_ordered(viewer):
    body = viewer.get("/api/skus").json()
    ids = [row["sku_id"] for row in body["results"]]
    assert ids == sorted(ids)
    assert {"ce1111", "mug-01", "tshirt-red-m"} <= set(ids)
    assert [r["sku_id"] for r in viewer.get("/api/skus?store=tokyo").json()["results"]] == [
        "tshirt-red-m"
    ]
    assert [r["sku_id"] for r in viewer.get("/api/skus?environment=test").json()["results"]] == [
        "ce1111"
    ]
    assert [r["sku_id"] for r in viewer.get("/api/skus?q=mug").json()["results"]] == ["mug-01"]
    newest = viewer.get("/api/skus?ordering=-sku_id").json()["results"][0]["sku_id"]
    assert newest == "tshirt-red-m"
    mug = next(r for r in body["results"] if r["sku_id"] == "mug-01")
    assert mug["available"] == 4


def test_the_sku_list_takes_a_fixed_number_of_queries(viewer, django_assert_max_num_queries):
    actor = Actor.cli("test")
    for n in range(30):
        sku_create(sku_id=f"Bulk-{n}", sku_name=f"bulk {n}", initial_stock=n, actor=actor)
    viewer.get("/api/skus")  # the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as few:
        viewer.get("/api/skus?page_size=5")
    with CaptureQueriesContext(connection) as many:
        viewer.get("/api/skus?page_size=30")
    assert len(many) == len(few)
    with django_assert_max_num_queries(8):
        viewer.get("/api/skus?page_size=30")


def test_an_admin_creates_a_sku_with_initial_stock(admin, operator):
    response = admin.post(
        "/api/skus",
        {"sku_id": "Cup-BLUE", "sku_name": "Cup", "initial_stock": 7},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["sku_id"] == "cup-blue"
    assert response.json()["original_sku"] == "Cup-BLUE"
    assert response.json()["available"] == 7
    assert operator.post("/api/skus", {}, format="json").status_code == 403


def test_a_sku_id_too_long_or_taken_is_refused(admin):
    response = admin.post("/api/skus", {"sku_id": "x" * 101, "sku_name": "long"}, format="json")
    assert response.status_code == 400
    assert "sku_id" in response.json()["errors"]
    taken = admin.post("/api/skus", {"sku_id": "MUG-01", "sku_name": "dup"}, format="json")
    assert taken.status_code == 400
    assert Sku.objects.filter(pk="mug-01").get().sku_name == "Mug"


def test_patching_a_sku_changes_it_and_is_audited(admin):
    response = admin.patch("/api/skus/Mug-01", {"sku_name": "Mug white"}, format="json")
    assert response.status_code == 200
    assert response.json()["sku_name"] == "Mug white"
    entry = AuditLog.objects.get(action="sku.update")
    assert entry.details["changes"]["sku_name"] == ["Mug", "Mug white"]


@pytest.mark.parametrize("field", ["price", "unit_price", "価格"])
def test_a_price_in_a_sku_patch_is_refused(admin, field):
    response = admin.patch("/api/skus/mug-01", {field: 100, "sku_name": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "price_refused"
    assert field in response.json()["errors"]
    assert Sku.objects.get(pk="mug-01").sku_name == "Mug"


def test_ce1111_cannot_be_inactivated_and_no_sku_is_deleted(admin):
    response = admin.patch("/api/skus/ce1111", {"status": "inactive"}, format="json")
    assert response.status_code == 400
    assert Sku.objects.get(pk="ce1111").status == "active"
    assert admin.delete("/api/skus/mug-01").status_code == 405
    assert Sku.objects.filter(pk="mug-01").exists()


def test_a_sku_and_its_registrations(viewer):
    assert viewer.get("/api/skus/TSHIRT-red-m").json()["available"] == 25
    assert viewer.get("/api/skus/nope").status_code == 404
    (row,) = viewer.get("/api/skus/tshirt-red-m/registrations").json()
    assert (row["store_id"], row["keys"]["manage_number"]) == ("tokyo", "tshirt-red")


# --- inventory and adjustments ----------------------------------------------------------------


def test_the_inventory_of_a_sku_shows_what_each_store_should_show(viewer):
    body = viewer.get("/api/inventory/tshirt-red-m").json()
    assert body["available"] == 25
    assert body["stores"][0]["store_id"] == "tokyo"
    assert body["stores"][0]["should_show"] == 25
    assert viewer.get("/api/inventory/unknown").status_code == 404


def test_an_adjustment_is_recorded_once_per_idempotency_key(operator):
    payload = {"sku_id": "Mug-01", "quantity": -2, "reason": "broken", "idempotency_key": "k-1"}
    first = operator.post("/api/events/manual", payload, format="json")
    assert first.status_code == 201
    assert first.json()["balance_after"] == 2
    again = operator.post("/api/events/manual", payload, format="json")
    assert again.status_code == 200
    assert again.json()["event_id"] == first.json()["event_id"]
    assert Sku.objects.get(pk="mug-01").snapshot.internal_available == 2
    other = operator.post("/api/events/manual", {**payload, "quantity": -1}, format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    by_header = operator.post(
        "/api/events/manual",
        {"sku_id": "mug-01", "quantity": 1, "reason": "found"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="h-1",
    )
    replay = operator.post(
        "/api/events/manual",
        {"sku_id": "mug-01", "quantity": 1, "reason": "found"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="h-1",
    )
    assert (by_header.status_code, replay.status_code) == (201, 200)
    assert Sku.objects.get(pk="mug-01").snapshot.internal_available == 3
    assert AuditLog.objects.filter(action="stock.adjust").count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sku_id": "mug-01", "quantity": -5, "reason": "too many"}, "quantity"),
        ({"sku_id": "mug-01", "quantity": 1.5, "reason": "half"}, "quantity"),
        ({"sku_id": "mug-01", "quantity": "two", "reason": "text"}, "quantity"),
        ({"sku_id": "mug-01", "quantity": 0, "reason": "zero"}, "quantity"),
        ({"sku_id": "mug-01", "quantity": 1}, "reason"),
    ],
)
def test_a_bad_adjustment_is_refused_and_changes_nothing(operator, payload, field):
    events = InventoryEvent.objects.count()
    response = operator.post("/api/events/manual", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert InventoryEvent.objects.count() == events
    assert Sku.objects.get(pk="mug-01").snapshot.internal_available == 4


def test_an_adjustment_of_an_unknown_sku_is_404(operator):
    response = operator.post(
        "/api/events/manual", {"sku_id": "ghost", "quantity": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 404
    assert "ghost" in response.json()["detail"]


def test_viewers_may_not_adjust(viewer):
    response = viewer.post(
        "/api/events/manual", {"sku_id": "mug-01", "quantity": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 403


def test_errors_speak_the_clients_language(operator):
    response = operator.post(
        "/api/events/manual",
        {"sku_id": "mug-01", "quantity": -5, "reason": "x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    english = operator.post(
        "/api/events/manual", {"sku_id": "mug-01", "quantity": -5, "reason": "x"}, format="json"
    )
    assert response.json()["errors"]["quantity"] != english.json()["errors"]["quantity"]


# --- the timeline, audit and oversell -------------------------------------------------------


def test_the_timeline_pages_by_cursor_newest_first(viewer):
    actor = Actor.cli("test")
    for n in range(7):
        stock_adjust(sku_id="mug-01", quantity=1, reason=f"r{n}", actor=actor)
    first = viewer.get("/api/events/mug-01?page_size=3").json()
    assert [e["reason"] for e in first["results"]] == ["r6", "r5", "r4"]
    second = viewer.get(first["next"]).json()
    assert [e["reason"] for e in second["results"]] == ["r3", "r2", "r1"]
    third = viewer.get(second["next"]).json()
    assert [e["event_type"] for e in third["results"]] == ["MANUAL_ADJUSTMENT", "INITIAL"]
    assert third["next"] is None
    bad = viewer.get("/api/events/mug-01?after=garbage")
    assert bad.status_code == 400
    assert "after" in bad.json()["errors"]
    assert viewer.get("/api/events/ghost").status_code == 404


def test_the_timeline_takes_a_fixed_number_of_queries(viewer):
    actor = Actor.cli("test")
    for n in range(20):
        stock_adjust(sku_id="mug-01", quantity=1, reason=f"r{n}", actor=actor)
    viewer.get("/api/skus")  # the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as few:
        viewer.get("/api/events/mug-01?page_size=2")
    with CaptureQueriesContext(connection) as many:
        viewer.get("/api/events/mug-01?page_size=20")
    assert len(many) == len(few)


def test_audit_logs_and_oversells(viewer, operator):
    operator.post(
        "/api/events/manual", {"sku_id": "mug-01", "quantity": 2, "reason": "x"}, format="json"
    )
    logs = viewer.get("/api/audit/logs?action=stock.adjust").json()
    assert logs["count"] == 1
    assert logs["results"][0]["user"] == "operator-user"
    assert viewer.get("/api/audit/oversell").json()["count"] == 0
    with CaptureQueriesContext(connection) as few:
        viewer.get("/api/audit/logs?page_size=1")
    with CaptureQueriesContext(connection) as many:
        viewer.get("/api/audit/logs?page_size=50")
    assert len(many) == len(few)


def test_a_nul_character_anywhere_is_refused_with_the_api_error_shape(operator):
    body = operator.post(
        "/api/events/manual",
        {"sku_id": "mug-01", "quantity": 1, "reason": "bad\x00byte"},
        format="json",
    )
    assert body.status_code == 400
    assert body.json()["code"] == "nul_byte"
    query = operator.get("/api/skus?q=a%00b")
    assert query.status_code == 400
    assert query.json()["code"] == "nul_byte"
    assert Sku.objects.get(pk="mug-01").snapshot.internal_available == 4


def test_an_unknown_api_path_is_a_json_404(operator):
    response = operator.get("/api/runs/not-a-number")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "2026-13-01T00:00:00Z"])
def test_a_date_that_is_no_date_in_utc_is_bad_input(viewer, since):
    response = viewer.get("/api/audit/logs", {"since": since})
    assert response.status_code == 400
    assert "since" in response.json()["errors"]


def test_an_offset_the_database_refuses_is_turned_to_utc(viewer):
    # PostgreSQL refuses an offset of -16:28; in UTC it is an ordinary time.
    response = viewer.get("/api/audit/logs", {"since": "1601-05-02T23:25:34-16:28"})
    assert response.status_code == 200


def test_a_since_with_an_offset_is_compared_in_utc(viewer, operator):
    operator.post(
        "/api/events/manual", {"sku_id": "mug-01", "quantity": 2, "reason": "x"}, format="json"
    )
    far_east = "2999-01-01T08:00:00+09:00"
    assert viewer.get("/api/audit/logs", {"since": far_east}).json()["count"] == 0
    assert viewer.get("/api/audit/logs", {"until": far_east}).json()["count"] >= 1


def test_a_path_with_a_newline_is_a_json_404_too(operator):
    response = operator.get("/api/runs/%0A")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
