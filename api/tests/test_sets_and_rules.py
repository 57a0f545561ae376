"""Issue 19 over the API: sets defined with a SKU (create and PATCH), their stock from
their components, allocation rules per store, and the inventory's explanation."""

from __future__ import annotations

import pytest

from events.models import AuditAction, AuditLog, PendingPush
from skus.models import SkuComponent
from stores.models import AllocationRule


@pytest.fixture
def gift(admin):
    response = admin.post(
        "/api/skus",
        {
            "sku_id": "Gift-Mug",
            "sku_name": "Two mugs and a T-shirt",
            "low_stock_threshold": 3,
            "components": [
                {"sku_id": "mug-01", "quantity": 2},
                {"sku_id": "Tshirt-RED-M", "quantity": 1},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_set_is_created_with_its_components_and_sells_what_they_allow(gift, viewer):
    assert gift["available"] == 2  # 4 mugs // 2
    assert gift["components"] == [
        {"sku_id": "mug-01", "quantity": 2},
        {"sku_id": "tshirt-red-m", "quantity": 1},
    ]
    assert gift["low_stock_threshold"] == 3
    listed = {row["sku_id"]: row for row in viewer.get("/api/skus").json()["results"]}
    assert listed["gift-mug"]["available"] == 2
    assert listed["mug-01"]["components"] == []
    assert AuditLog.objects.filter(action=AuditAction.SET_DEFINE).count() == 1


def test_a_set_of_sets_or_an_unknown_component_is_refused_and_nothing_is_created(gift, admin):
    refused = admin.post(
        "/api/skus",
        {
            "sku_id": "Hamper",
            "sku_name": "x",
            "components": [{"sku_id": "gift-mug", "quantity": 1}],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "sets of sets" in refused.content.decode()
    assert admin.get("/api/skus/hamper").status_code == 404
    unknown = admin.patch(
        "/api/skus/gift-mug", {"components": [{"sku_id": "nope", "quantity": 1}]}, format="json"
    )
    assert unknown.status_code == 400
    assert "Unknown SKU" in unknown.content.decode()
    assert SkuComponent.objects.filter(set_id="gift-mug").count() == 2


def test_patch_changes_the_recipe_or_makes_it_plain(gift, admin, viewer):
    changed = admin.patch(
        "/api/skus/gift-mug", {"components": [{"sku_id": "mug-01", "quantity": 1}]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["available"] == 4
    plain = admin.patch("/api/skus/gift-mug", {"components": []}, format="json").json()
    assert (plain["components"], plain["available"]) == ([], 0)
    # A viewer may not change a SKU.
    assert viewer.patch("/api/skus/mug-01", {"components": []}, format="json").status_code == 403


def test_rules_are_listed_added_changed_and_removed_per_store(admin, viewer, operator):
    url = "/api/stores/tokyo/allocation-rules"
    PendingPush.objects.all().delete()
    created = admin.post(url, {"kind": "share", "value": 80}, format="json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert (rule["store_id"], rule["sku_id"], rule["kind"], rule["value"]) == (
        "tokyo",
        None,
        "share",
        80,
    )
    assert PendingPush.objects.filter(store_id="tokyo", sku_id="tshirt-red-m").exists()
    assert [r["id"] for r in viewer.get(url).json()] == [rule["id"]]
    assert operator.post(url, {"kind": "cap", "value": 1}, format="json").status_code == 403
    bad = admin.post(url, {"kind": "buffer", "value": 5}, format="json")
    assert bad.status_code == 400
    assert "needs a period" in bad.content.decode()
    patched = admin.patch(f"{url}/{rule['id']}", {"value": 50}, format="json")
    assert patched.json()["value"] == 50
    inventory = viewer.get("/api/inventory/tshirt-red-m").json()
    (store,) = inventory["stores"]
    assert store["should_show"] == 12  # 50 % of 25
    assert store["steps"][0] | {"until": None} == {
        "rule": "share",
        "value": 50,
        "before": 25,
        "after": 12,
        "source": "store",
        "rule_id": rule["id"],
        "until": None,
        "text": "share 50 % (the store's rule)",
    }
    assert store["push_pending"] is True
    assert store["push_status"] == "pending"
    assert store["in_step"] is False
    assert admin.delete(f"{url}/{rule['id']}").status_code == 204
    assert not AllocationRule.objects.exists()
    assert admin.get(f"{url}/{rule['id']}").status_code == 404
    assert viewer.get("/api/stores/nowhere/allocation-rules").status_code == 404


def test_the_inventory_of_a_set_names_its_components_and_last_changes(gift, operator, viewer):
    operator.post(
        "/api/events/manual",
        {"sku_id": "mug-01", "quantity": -1, "reason": "broken", "idempotency_key": "k-9"},
        format="json",
    )
    body = viewer.get("/api/inventory/gift-mug").json()
    assert body["available"] == 1  # 3 mugs // 2
    assert body["components"] == [
        {"sku_id": "mug-01", "quantity": 2, "available": 3, "allows": 1},
        {"sku_id": "tshirt-red-m", "quantity": 1, "available": 25, "allows": 25},
    ]
    assert body["stores"] == []
    assert body["recent_events"][0]["sku_id"] == "mug-01"
    assert body["recent_events"][0]["quantity"] == -1
    # A set's own stock cannot be adjusted.
    refused = operator.post(
        "/api/events/manual",
        {"sku_id": "gift-mug", "quantity": 5, "reason": "found", "idempotency_key": "k-10"},
        format="json",
    )
    assert refused.status_code == 400
    assert "is a set" in refused.content.decode()
