# ruff: noqa: F811 - the RMS sandbox fixtures are imported by name
"""The engine over the API, against the RMS sandbox over HTTP: SKU sync, push, polls, auth
tests, runs, failed syncs, reconciliation and the test reset."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from events.models import AuditLog, PendingPush
from inventory_site.permissions import groups_ensure
from rakuten.tests.conftest import (  # noqa: F401 - fixtures
    engine,
    make_client,
    sandbox,
    sandbox_server,
)
from sync.models import SyncRun

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """The tasks a request queues after its commit run (django-q2 runs them inline)."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def api(engine, settings) -> dict[str, APIClient]:
    groups_ensure()
    return {
        "viewer": client_for(make_user("viewer")),
        "operator": client_for(make_user("operator")),
        "admin": client_for(make_user("admin")),
    }


def test_a_push_of_every_sku_is_started_and_followed_to_its_end(api, engine, on_commit):
    with on_commit(execute=True):
        response = api["operator"].post("/api/sync/store-a")
    assert response.status_code == 202
    body = response.json()
    run = api["operator"].get(body["url"]).json()
    assert run["status"] == "succeeded"
    assert run["counts"]["pushed"] == 3
    assert engine.shown("store-b") == 25
    assert api["viewer"].post("/api/sync/store-a").status_code == 403
    assert api["operator"].post("/api/sync/nowhere").status_code == 404


def test_a_sku_sync_is_started_and_its_status_read(api, on_commit):
    assert api["viewer"].get("/api/stores/store-a/sku-sync-status").status_code == 404
    with on_commit(execute=True):
        started = api["operator"].post("/api/stores/store-a/sync-skus")
    assert started.status_code == 202
    latest = api["viewer"].get("/api/stores/store-a/sku-sync-status").json()
    assert latest["id"] == started.json()["id"]
    assert latest["kind"] == "sku_sync"
    assert latest["status"] in ("succeeded", "partial")
    assert AuditLog.objects.filter(action="sku.sync").count() == 1


def test_a_manual_poll_takes_a_new_order(api, engine, on_commit):
    engine.order("store-a", units=2)
    with on_commit(execute=True):
        response = api["operator"].post("/api/rakuten/manual-poll", {"store_id": "store-a"})
    assert response.status_code == 202
    assert response.json() == [{"queued": True, "store_id": "store-a"}]
    run = SyncRun.objects.filter(store_id="store-a", kind="poll").latest("started_at")
    assert run.status == "succeeded"
    every = api["operator"].post("/api/rakuten/manual-poll", {}, format="json").json()
    assert {row["store_id"] for row in every} == {"store-a", "store-b", "store-c"}
    generic = api["operator"].post("/api/stores/store-b/poll")
    assert generic.status_code == 202
    assert AuditLog.objects.filter(action="poll.manual").count() == 5


def test_the_auth_test_asks_the_platform(api, engine):
    (one,) = api["operator"].get("/api/rakuten/auth-test?store_id=store-a").json()
    assert one["ok"] is True
    assert one["expires_at"] is not None
    every = api["operator"].get("/api/rakuten/auth-test").json()
    assert {row["store_id"] for row in every} == {"store-a", "store-b", "store-c"}
    engine.sandbox.shops["store-b"].license_key = "changed"
    refused = api["operator"].post("/api/stores/store-b/auth-test").json()
    assert refused["ok"] is False
    assert refused["message"]
    assert "SL-b" not in str(refused)
    assert api["viewer"].get("/api/rakuten/auth-test").status_code == 403


def test_failed_pushes_are_listed_and_retried(api, engine, on_commit):
    PendingPush.objects.create(
        store_id="store-b", sku_id="tshirt-red-m", status="failed", attempts=8, last_error="500"
    )
    listed = api["viewer"].get("/api/sync/failed").json()
    assert listed["count"] == 1
    assert listed["results"][0]["platform"] == "rakuten"
    assert api["viewer"].post("/api/sync/failed/retry", {}, format="json").status_code == 403
    with on_commit(execute=True):
        retried = api["operator"].post(
            "/api/sync/failed/retry", {"ids": [listed["results"][0]["id"]]}, format="json"
        )
    assert retried.json() == {"retried": 1}
    assert api["viewer"].get("/api/sync/failed").json()["count"] == 0
    assert engine.shown("store-b") == 25
    bad = api["operator"].post("/api/sync/failed/retry", {"ids": ["x"]}, format="json")
    assert bad.status_code == 400


def test_the_reconciliation_report(api):
    body = api["viewer"].get("/api/audit/reconcile").json()
    assert body["ledger_ok"] is True
    assert body["ledger_drift"] == []
    assert body["stores"] == []


def test_the_test_reset_only_in_test_mode_and_for_admins(api, settings):
    settings.INVENTORY_TEST_MODE = False
    assert api["admin"].post("/api/test/reset").status_code == 404
    settings.INVENTORY_TEST_MODE = True
    assert api["operator"].post("/api/test/reset").status_code == 403
    response = api["admin"].post("/api/test/reset")
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="test.reset").count() == 1


def test_a_run_is_visible_to_those_who_may_read_runs(api):
    run = SyncRun.objects.create(store_id="store-a", kind="push", operator="someone")
    assert api["viewer"].get(f"/api/runs/{run.pk}").json()["status"] == "running"
    nobody = client_for(make_user(None, "nobody"))
    assert nobody.get(f"/api/runs/{run.pk}").status_code == 403
    assert api["viewer"].get("/api/runs/999999").status_code == 404


def test_a_store_called_failed_is_pushed_at_its_own_path(api, engine, on_commit):
    from events.actors import Actor
    from stores.services import store_create

    store_create(store_id="failed", store_name="Failed?", actor=Actor.cli("t"))
    assert api["operator"].post("/api/sync/failed").status_code == 405
    with on_commit(execute=True):
        response = api["operator"].post("/api/stores/failed/push")
    assert response.status_code == 202
    assert response.json()["url"].startswith("/api/runs/")


def test_ids_past_64_bits_are_bad_input_or_not_found(api):
    response = api["operator"].post("/api/sync/failed/retry", {"ids": [2**70]}, format="json")
    assert response.status_code == 400
    assert "ids" in response.json()["errors"]
    assert api["viewer"].get(f"/api/runs/{10**30}").status_code == 404
