"""The CSV import over the API: preview (nothing changes), confirm (applied once, by its
uploader, within 24 h, error rows only when skipped), bad files, permissions, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.views.imports import ImportPreviewSerializer, ImportRowSerializer
from events.models import AuditAction, AuditLog, EventType, InventoryEvent, InventorySnapshot
from imports.models import UploadedFile
from skus.models import Sku
from sync.models import SyncRun

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db

STOCK_CSV = "sku,name,quantity\nTshirt-RED-M,,30\nMug-01,,4\nNew-1,New one,7\n"


def preview(client: APIClient, content: str | bytes, **extra: str):
    data = {
        "file": SimpleUploadedFile(
            "stock.csv", content.encode() if isinstance(content, str) else content
        ),
        "store_id": "tokyo",
        "import_mode": "reset_stock",
        "zero_handling": "ignore",
        **extra,
    }
    return client.post("/api/import/preview", data, format="multipart")


def confirm(client: APIClient, capture, body: dict, **extra):
    """POST /api/import/confirm, running the task the commit starts (sync in the tests)."""
    with capture(execute=True):
        return client.post("/api/import/confirm", {**body, **extra}, format="json")


def stock(sku_id: str) -> int:
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def import_events() -> int:
    return InventoryEvent.objects.filter(event_type=EventType.IMPORT).count()


def test_preview_shows_the_rows_and_changes_nothing_then_confirm_applies_once(
    operator, django_capture_on_commit_callbacks
):
    response = preview(operator, STOCK_CSV)
    assert response.status_code == 201, response.json()
    body = response.json()
    upload = UploadedFile.objects.get()
    assert set(body) == set(ImportPreviewSerializer().fields)
    assert body["file_id"] == str(upload.file_id)
    assert body["token"] == upload.token
    assert (body["filename"], body["store_id"], body["import_mode"], body["zero_handling"]) == (
        "stock.csv",
        "tokyo",
        "reset_stock",
        "ignore",
    )
    assert (body["status"], body["operator"], body["kind"], body["run"]) == (
        "pending",
        "operator-user",
        "table",
        None,
    )
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires - upload.created_at == dt.timedelta(hours=24)
    assert body["error_count"] == 0
    assert body["totals"] == {
        "create": 1,
        "update": 0,
        "stock": 1,
        "no change": 1,
        "skipped": 0,
        "error": 0,
        "rows": 3,
    }
    rows = {row["sku"]: row for row in body["rows"]}
    assert [row["line"] for row in body["rows"]] == [2, 3, 4]
    assert set(rows["Tshirt-RED-M"]) == set(ImportRowSerializer().fields)
    assert rows["Tshirt-RED-M"] | {"register": None} == {
        "line": 2,
        "sku": "Tshirt-RED-M",
        "sku_id": "tshirt-red-m",
        "store_id": "tokyo",
        "action": "stock",
        "stock_from": 25,
        "stock_to": 30,
        "name_from": None,
        "name_to": None,
        "register": None,
        "message": "",
    }
    assert (rows["Mug-01"]["action"], rows["Mug-01"]["stock_to"]) == ("no change", None)
    assert (rows["New-1"]["action"], rows["New-1"]["stock_from"], rows["New-1"]["stock_to"]) == (
        "create",
        0,
        7,
    )
    assert rows["New-1"]["name_to"] == "New one"
    # The preview wrote nothing but the upload.
    assert stock("tshirt-red-m") == 25
    assert not Sku.objects.filter(pk="new-1").exists()
    assert import_events() == 0
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).exists()

    done = confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": body["token"]},
    )
    assert done.status_code == 202, done.json()
    run = SyncRun.objects.get(kind=SyncRun.Kind.IMPORT)
    assert done.json() == {"run_id": run.pk, "status": "running", "url": f"/api/runs/{run.pk}"}
    assert (run.status, run.operator, run.finished_at is not None) == (
        "succeeded",
        "operator-user",
        True,
    )
    assert (run.counts["create"], run.counts["stock"]) == (1, 1)
    assert (stock("tshirt-red-m"), stock("mug-01"), stock("new-1")) == (30, 4, 7)
    assert Sku.objects.get(pk="new-1").sku_name == "New one"
    assert import_events() == 2
    upload.refresh_from_db()
    assert upload.status == "confirmed"
    audit = AuditLog.objects.get(action=AuditAction.IMPORT_CONFIRM)
    assert (audit.user, audit.details["file_id"]) == ("operator-user", str(upload.file_id))

    again = confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": body["token"]},
    )
    assert again.status_code == 400
    assert "cannot be confirmed again" in str(again.json()["errors"])
    assert (stock("tshirt-red-m"), stock("new-1"), import_events()) == (30, 7, 2)
    assert SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).count() == 1

    # Read again once confirmed: what the confirm applied, frozen (not a new preview
    # against today's stock, where every row would be "no change").
    detail = operator.get(f"/api/import/{upload.file_id}").json()
    assert detail["status"] == "confirmed"
    assert detail["run"] == {"run_id": run.pk, "status": "succeeded", "url": f"/api/runs/{run.pk}"}
    assert (detail["totals"]["create"], detail["totals"]["stock"]) == (1, 1)
    assert detail["totals"]["no change"] == 1


def test_only_the_uploader_may_confirm_and_only_with_its_token(
    operator, django_capture_on_commit_callbacks
):
    body = preview(operator, STOCK_CSV).json()
    other = client_for(make_user("operator", "other-operator"))
    seen = other.get(f"/api/import/{body['file_id']}")
    assert seen.status_code == 200
    assert seen.json()["token"] is None  # only the uploader reads the token
    assert seen.json()["totals"]["rows"] == 3
    refused = confirm(
        other,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": body["token"]},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"]["non_field_errors"] == [
        "Only operator-user, who uploaded this file, can confirm or cancel it."
    ]
    wrong = confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": "not-the-token"},
    )
    assert wrong.status_code == 400
    assert "not valid for this upload" in wrong.json()["errors"]["non_field_errors"][0]
    unknown = confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": "00000000-0000-0000-0000-000000000000", "token": body["token"]},
    )
    assert unknown.status_code == 400
    missing = confirm(operator, django_capture_on_commit_callbacks, {"file_id": "x"})
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"file_id", "token"}
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).exists()
    assert (stock("tshirt-red-m"), import_events()) == (25, 0)
    assert UploadedFile.objects.get().status == "pending"


def test_an_upload_older_than_24_hours_cannot_be_confirmed(
    operator, django_capture_on_commit_callbacks
):
    body = preview(operator, STOCK_CSV).json()
    UploadedFile.objects.filter(pk=body["file_id"]).update(
        created_at=timezone.now() - dt.timedelta(hours=24, minutes=1)
    )
    late = confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": body["token"]},
    )
    assert late.status_code == 400
    assert "more than 24 hours old" in late.json()["errors"]["non_field_errors"][0]
    assert (stock("tshirt-red-m"), import_events()) == (25, 0)
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).exists()


def test_error_rows_fail_the_confirm_unless_skipped(operator, django_capture_on_commit_callbacks):
    body = preview(operator, "sku,quantity\nGood-1,1\nBad-1,x\nBad-2,-3\n").json()
    assert body["error_count"] == 2
    assert (body["totals"]["error"], body["totals"]["create"]) == (2, 1)
    # Errors first, as the page lists them.
    assert [(row["sku"], row["action"]) for row in body["rows"]] == [
        ("Bad-1", "error"),
        ("Bad-2", "error"),
        ("Good-1", "create"),
    ]
    assert "not a whole number" in body["rows"][0]["message"]
    assert "negative" in body["rows"][1]["message"]
    ids = {"file_id": body["file_id"], "token": body["token"]}

    # Refused in the request: nothing starts.
    refused = confirm(operator, django_capture_on_commit_callbacks, ids)
    assert refused.status_code == 400
    assert "2 rows have errors" in str(refused.json()["errors"])
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).exists()
    assert not Sku.objects.filter(pk="good-1").exists()
    assert UploadedFile.objects.get().status == "pending"

    applied = confirm(operator, django_capture_on_commit_callbacks, ids, skip_errors=True)
    assert applied.status_code == 202
    run = SyncRun.objects.get(pk=applied.json()["run_id"])
    assert run.status == "succeeded"
    assert stock("good-1") == 1
    assert not Sku.objects.filter(pk__in=["bad-1", "bad-2"]).exists()
    assert UploadedFile.objects.get().status == "confirmed"


def test_metadata_only_renames_and_leaves_the_stock(operator, django_capture_on_commit_callbacks):
    body = preview(
        operator,
        "sku,name,quantity\nMug-01,Big mug,99\n",
        import_mode="metadata_only",
        zero_handling="set_zero",
    ).json()
    (row,) = body["rows"]
    assert (row["action"], row["name_from"], row["name_to"], row["stock_to"]) == (
        "update",
        "Mug",
        "Big mug",
        None,
    )
    confirm(
        operator,
        django_capture_on_commit_callbacks,
        {"file_id": body["file_id"], "token": body["token"]},
    )
    assert Sku.objects.get(pk="mug-01").sku_name == "Big mug"
    assert (stock("mug-01"), import_events()) == (4, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"sku,quantity\n\x82\xff,1\n", "neither UTF-8 nor Shift_JIS"),
        ("name,price\nx,1\n", "No SKU column"),
        ("sku,name\nNew-1,x\n", "No quantity column"),
        ("sku,quantity\n", "has a header but no rows"),
        (b"", "empty"),
        (b"PK\x03\x04\x00\x00binary", "binary data"),
    ],
)
def test_a_file_that_cannot_be_read_is_400_and_not_kept(operator, content, message):
    response = preview(operator, content)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in ("invalid_file", "empty")
    assert message in body["errors"]["file"][0]
    assert UploadedFile.objects.count() == 0


def test_bad_store_mode_or_zero_handling_is_400(operator):
    unknown = preview(operator, STOCK_CSV, store_id="nowhere")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"non_field_errors": ["Unknown store: nowhere."]}
    mode = preview(operator, STOCK_CSV, import_mode="replace_all")
    assert mode.status_code == 400
    assert set(mode.json()["errors"]) == {"import_mode"}
    zero = preview(operator, STOCK_CSV, zero_handling="maybe")
    assert set(zero.json()["errors"]) == {"zero_handling"}
    missing = operator.post("/api/import/preview", {"store_id": "tokyo"}, format="multipart")
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"file", "import_mode", "zero_handling"}
    as_json = operator.post("/api/import/preview", {"store_id": "tokyo"}, format="json")
    assert as_json.status_code == 415
    assert UploadedFile.objects.count() == 0


def test_permissions(world, viewer, operator, django_capture_on_commit_callbacks):
    anonymous = APIClient()
    assert preview(anonymous, STOCK_CSV).status_code == 401
    assert anonymous.post("/api/import/confirm", {}, format="json").status_code == 401
    assert preview(viewer, STOCK_CSV).status_code == 403
    assert UploadedFile.objects.count() == 0
    body = preview(operator, STOCK_CSV).json()
    assert anonymous.get(f"/api/import/{body['file_id']}").status_code == 401
    assert viewer.get(f"/api/import/{body['file_id']}").json()["token"] is None
    ids = {"file_id": body["file_id"], "token": body["token"]}
    assert confirm(viewer, django_capture_on_commit_callbacks, ids).status_code == 403
    nobody = client_for(make_user(None, "nobody"))
    assert nobody.get(f"/api/import/{body['file_id']}").status_code == 403
    assert operator.get("/api/import/00000000-0000-0000-0000-000000000000").status_code == 404
    assert operator.get("/api/import/preview").status_code == 405
    assert stock("tshirt-red-m") == 25


def test_the_preview_again_takes_as_many_queries_for_5_or_50_rows(operator):
    def count(rows: int) -> int:
        lines = "".join(f"Q-{i},Name {i},{i}\n" for i in range(rows))
        body = preview(operator, "sku,name,quantity\nMug-01,Mug,9\n" + lines).json()
        assert body["totals"]["rows"] == rows + 1
        with CaptureQueriesContext(connection) as queries:
            response = operator.get(f"/api/import/{body['file_id']}")
        assert len(response.json()["rows"]) == rows + 1
        return len(queries)

    assert count(5) == count(50)
