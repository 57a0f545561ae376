import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from events.models import InventorySnapshot
from imports.models import UploadedFile
from skus.models import Sku
from stores.tests.factories import StoreFactory
from sync.models import SyncRun

from .helpers import post_file, staff

pytestmark = pytest.mark.django_db


def test_upload_preview_confirm_in_the_browser_flow(importer, django_capture_on_commit_callbacks):
    store = StoreFactory()
    page = importer.get(reverse("imports:upload"))
    assert b"Download the template" in page.content
    assert b'id="nav-import"' in page.content
    response = post_file(importer, "sku,name,quantity\nNew-1,<script>alert(1)</script>,4\n", store)
    upload = UploadedFile.objects.get()
    assert response.url == reverse("imports:preview", args=[upload.file_id])
    preview = importer.get(response.url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview
    assert "<script>alert(1)" not in preview
    assert 'id="confirm-form"' in preview
    assert not Sku.objects.filter(pk="new-1").exists()
    with django_capture_on_commit_callbacks(execute=True) as started:
        done = importer.post(
            reverse("imports:confirm", args=[upload.file_id]), {"token": upload.token}
        )
    assert done.url == reverse("imports:preview", args=[upload.file_id])
    assert len(started) == 1  # the apply runs as a task once the request commits
    assert InventorySnapshot.objects.get(pk="new-1").internal_available == 4
    run = SyncRun.objects.get(kind="import")
    assert (run.status, run.counts["create"], run.operator) == ("succeeded", 1, "imp")
    page = importer.get(done.url).content.decode()
    assert 'data-status="succeeded"' in page
    assert 'id="confirm-form"' not in page
    progress = importer.get(reverse("sync:run_progress", args=[run.pk])).json()
    assert (progress["finished"], progress["percent"], progress["counts"]["create"]) == (
        True,
        100,
        1,
    )
    again = importer.post(
        reverse("imports:confirm", args=[upload.file_id]), {"token": upload.token}, follow=True
    )
    assert "cannot be confirmed again" in again.content.decode()


def test_errors_are_listed_and_block_confirm(importer, django_capture_on_commit_callbacks):
    store = StoreFactory()
    post_file(importer, "sku,quantity\nGood-1,1\nBad-1,x\n", store)
    upload = UploadedFile.objects.get()
    page = importer.get(
        reverse("imports:preview", args=[upload.file_id]), {"show": "errors"}
    ).content.decode()
    assert "not a whole number" in page
    assert "Good-1" not in page
    with django_capture_on_commit_callbacks(execute=True) as started:
        refused = importer.post(
            reverse("imports:confirm", args=[upload.file_id]), {"token": upload.token}
        )
    # Refused in the request: the page is drawn again with its form and the reason beside
    # the choice; no run was started, nothing was written.
    assert refused.status_code == 200
    page = refused.content.decode()
    assert 'id="confirm-refused">1 row has an error: fix the file, or tick' in page
    assert "1 rows" not in page
    assert 'id="confirm-form"' in page
    assert 'name="skip_errors"' in page
    assert "Import started" not in page
    assert started == []
    assert not SyncRun.objects.filter(kind="import").exists()
    assert not Sku.objects.filter(pk="good-1").exists()
    with django_capture_on_commit_callbacks(execute=True):
        importer.post(
            reverse("imports:confirm", args=[upload.file_id]),
            {"token": upload.token, "skip_errors": "on"},
        )
    assert Sku.objects.filter(pk="good-1").exists()
    assert not Sku.objects.filter(pk="bad-1").exists()


def test_a_bad_file_gets_a_message_and_nothing_is_kept(importer):
    store = StoreFactory()
    page = post_file(importer, "name,price\nx,1\n", store).content.decode()
    assert "No SKU column" in page
    assert UploadedFile.objects.count() == 0


def test_cancel_and_other_users_uploads(importer, client):
    store = StoreFactory()
    post_file(importer, "sku,quantity\nNew-1,4\n", store)
    upload = UploadedFile.objects.get()
    other = staff("other", "imports.add_uploadedfile")
    client.force_login(other)
    page = client.get(reverse("imports:preview", args=[upload.file_id])).content.decode()
    assert 'id="confirm-form"' not in page
    refused = client.post(
        reverse("imports:confirm", args=[upload.file_id]), {"token": upload.token}, follow=True
    )
    assert "Only imp" in refused.content.decode()
    client.post(reverse("imports:cancel", args=[upload.file_id]))
    upload.refresh_from_db()
    assert upload.status == "pending"
    client.force_login(User.objects.get(username="imp"))
    client.post(reverse("imports:cancel", args=[upload.file_id]))
    upload.refresh_from_db()
    assert upload.status == "cancelled"
    assert not Sku.objects.filter(pk="new-1").exists()
    bad = client.post(reverse("imports:confirm", args=[upload.file_id]), {}, follow=True)
    assert "not valid" in bad.content.decode()


def test_recent_uploads_are_listed_without_reading_their_text(importer):
    store = StoreFactory()
    post_file(importer, "sku,quantity\nNew-1,4\n", store)
    page = importer.get(reverse("imports:upload"))
    (recent,) = page.context["recent"]
    assert recent.get_deferred_fields() == {"original_content"}
    assert recent.filename in page.content.decode()


def test_permissions(client):
    url = reverse("imports:upload")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff("viewer"))
    assert client.get(url).status_code == 403
    assert client.get(reverse("imports:export")).status_code == 403
    assert client.get(reverse("imports:template")).status_code == 200


def test_template_and_export_downloads(importer):
    template = importer.get(reverse("imports:template"))
    assert template["Content-Disposition"].startswith("attachment")
    # Excel opens UTF-8 right only behind a BOM.
    assert template.content.startswith(b"\xef\xbb\xbfsku_id,sku_name,quantity,store_id")
    response = importer.get(reverse("imports:export"))
    assert response.streaming  # sent as it is read, not built in memory first
    assert response["Content-Disposition"] == 'attachment; filename="inventory-sync-stock.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    export = b"".join(response.streaming_content)
    assert export.startswith(b"\xef\xbb\xbf")
    # The template's columns, so that the export reads back as a template would.
    assert (
        export.decode("utf-8-sig").splitlines()[0]
        == template.content.decode("utf-8-sig").splitlines()[0]
    )
    assert "CE1111" in export.decode("utf-8-sig")


def test_a_second_confirm_while_one_runs_is_refused(importer):
    store = StoreFactory()
    post_file(importer, "sku,quantity\nNew-1,4\n", store)
    upload = UploadedFile.objects.get()
    confirm = reverse("imports:confirm", args=[upload.file_id])
    importer.post(confirm, {"token": upload.token})  # its task waits for the commit
    again = importer.post(confirm, {"token": upload.token}, follow=True).content.decode()
    assert "being applied already" in again
    assert SyncRun.objects.filter(kind="import").count() == 1
    assert 'id="confirm-form"' not in again
    assert not Sku.objects.filter(pk="new-1").exists()


def test_only_importers_and_job_viewers_follow_an_import(importer, client):
    store = StoreFactory()
    post_file(importer, "sku,quantity\nNew-1,4\n", store)
    upload = UploadedFile.objects.get()
    importer.post(reverse("imports:confirm", args=[upload.file_id]), {"token": upload.token})
    run = SyncRun.objects.get(kind="import")
    progress = importer.get(reverse("sync:run_progress", args=[run.pk])).json()
    assert (progress["finished"], progress["percent"]) == (False, None)
    assert progress["phase"] == "waiting for a worker"
    client.force_login(staff("nobody"))
    assert client.get(reverse("sync:run_progress", args=[run.pk])).status_code == 403
