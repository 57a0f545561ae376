"""After a confirm: what was applied stays as it was, the file keeps only the columns we
read, and after the retention period nothing of it."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from events.services import stock_adjust
from imports.models import AppliedUpload, UploadedFile
from imports.parsing import ImportFileError, parse, used_columns_only
from imports.selectors import import_applied, import_result
from imports.services import (
    Action,
    ImportHasErrors,
    import_cancel,
    import_confirm,
    import_confirm_run,
    import_confirm_start,
    import_preview,
    upload_create,
    uploads_purge,
)
from imports.tasks import uploads_purge_task
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory
from sync.models import SyncRun

from .helpers import post_file

pytestmark = pytest.mark.django_db

PRICED = "sku_id,販売価格,sku_name,quantity,仕入価格\nKnown-1,1200,Mug,7,800\nNew-1,900,Cup,3,500\n"


@pytest.fixture
def store():
    return StoreFactory(store_id="shop1")


def upload(actor, store, content=PRICED, mode=UploadedFile.ImportMode.RESET_STOCK):
    return upload_create(
        filename="stock.csv",
        content=content.encode(),
        store_id=store.store_id,
        import_mode=mode,
        zero_handling="ignore",
        actor=actor,
    )


def test_a_confirmed_upload_shows_what_was_applied_not_todays_stock(actor, store):
    SkuFactory(sku_id="Known-1", sku_name="Mug", initial_stock=10)
    up = upload(actor, store)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    # Later the stock moves on: the upload still says what its confirm did.
    stock_adjust(sku_id="known-1", quantity=5, reason="delivery", actor=actor)
    up.refresh_from_db()
    applied = import_result(up)
    assert applied.applied_at is not None
    rows = {row.sku_id: row for row in applied.rows}
    assert (rows["known-1"].action, rows["known-1"].stock_from, rows["known-1"].stock_to) == (
        Action.STOCK,
        10,
        7,
    )
    assert (rows["new-1"].action, rows["new-1"].stock_to) == (Action.CREATE, 3)
    assert (applied.totals["stock"], applied.totals["create"], applied.totals["rows"]) == (1, 1, 2)
    # A fresh preview would say 12 -> 7: that is not what the page shows.
    assert {row.sku_id: row.stock_from for row in import_preview(up).rows}["known-1"] == 12


def test_the_confirm_drops_the_columns_we_do_not_read(actor, store):
    up = upload(actor, store)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    up.refresh_from_db()
    assert up.original_content == "sku_id,sku_name,quantity\r\nKnown-1,Mug,7\r\nNew-1,Cup,3\r\n"
    assert "1200" not in up.original_content


def test_a_cancel_drops_them_too_and_the_preview_still_reads(actor, store):
    up = upload(actor, store)
    before = [(r.sku_id, r.action, r.stock_to) for r in import_preview(up).rows]
    import_cancel(file_id=up.file_id, actor=actor)
    up.refresh_from_db()
    assert "販売価格" not in up.original_content
    assert [(r.sku_id, r.action, r.stock_to) for r in import_preview(up).rows] == before
    assert import_applied(up) is None


def test_used_columns_keep_an_rms_file_readable_as_one():
    text = (
        "商品管理番号（商品URL）,商品名,販売価格,SKU管理番号,システム連携用SKU番号,在庫数\r\n"
        "tshirt,Tシャツ,2000,,,\r\n"
        "tshirt,,2000,Tshirt-RED-M,TRM-001,5\r\n"
    )
    kept = used_columns_only(text)
    assert "販売価格" not in kept
    assert "2000" not in kept
    before, after = parse(text, need_quantity=True), parse(kept, need_quantity=True)
    assert after.kind == before.kind == "rakuten"
    assert after.rows == before.rows


def test_tab_separated_files_stay_tab_separated():
    assert used_columns_only("sku\tprice\tquantity\nA-1\t9\t2\n") == "sku\tquantity\r\nA-1\t2\r\n"


@pytest.mark.parametrize(("days", "emptied"), [(30, 1), (90, 0)])
def test_the_text_goes_after_the_retention_period(actor, store, settings, days, emptied):
    settings.IMPORTS_ORIGINAL_RETENTION_DAYS = days
    old, new = upload(actor, store), upload(actor, store)
    import_confirm(file_id=old.file_id, token=old.token, actor=actor)
    UploadedFile.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    assert uploads_purge() == emptied
    assert uploads_purge() == 0  # again: nothing more
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.original_content == "") is bool(emptied)
    assert new.original_content.startswith("sku_id,販売価格")
    # What the confirm applied is kept.
    assert import_result(old).totals["create"] == 2


def test_retention_never_empties_an_upload_that_may_still_be_confirmed(actor, store, settings):
    settings.IMPORTS_ORIGINAL_RETENTION_DAYS = 0
    up = upload(actor, store)
    assert uploads_purge() == 0
    assert uploads_purge(now=timezone.now() + dt.timedelta(hours=25)) == 1
    up.refresh_from_db()
    with pytest.raises(ImportFileError, match="removed 0 days after"):
        import_result(up)


def test_the_purge_runs_as_a_task_and_a_command(actor, store, capsys):
    up = upload(actor, store)
    UploadedFile.objects.filter(pk=up.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    assert uploads_purge_task() == "1 upload emptied"
    call_command("purge_uploads")
    assert capsys.readouterr().out == "0 uploads older than 30 days emptied.\n"


def test_a_removed_file_sends_the_page_back_with_why(importer, store):
    post_file(importer, "sku,quantity\nNew-1,4\n", store)
    up = UploadedFile.objects.get()
    UploadedFile.objects.filter(pk=up.pk).update(original_content="")
    response = importer.get(reverse("imports:preview", args=[up.file_id]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:upload")
    assert "The file was removed 30 days after it was uploaded" in response.content.decode()


# --- new SKUs reach the store they were imported into -------------------------------------


def test_new_skus_are_registered_in_their_rows_store(actor, store):
    from stores.models import StoreSku

    StoreFactory(store_id="shop2")
    SkuFactory(sku_id="Known-1", initial_stock=1)
    content = (
        "sku_id,quantity,store_id,manage_number\n"
        "New-1,3,,\n"
        "New-2,4,shop2,\n"
        "New-3,5,,item3\n"
        "Known-1,2,,\n"
    )
    up = upload(actor, store, content)
    rows = {row.sku_id: row for row in import_preview(up).rows}
    # Said per row, before anyone confirms: registered, but without the store's ids.
    assert "registered in store shop1 without the store's item ids" in rows["new-1"].message
    assert "registered in store shop2" in rows["new-2"].message
    assert rows["new-3"].message == ""  # its ids are in the file
    assert rows["known-1"].message == ""
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert set(StoreSku.objects.values_list("store_id", "sku_id")) == {
        ("shop1", "new-1"),
        ("shop2", "new-2"),
        ("shop1", "new-3"),
    }
    assert StoreSku.objects.get(sku_id="new-3").rakuten.manage_number == "item3"
    # The stores are due a push of the new SKUs' stock.
    from events.models import PendingPush

    assert set(PendingPush.objects.values_list("store_id", "sku_id")) >= {
        ("shop1", "new-1"),
        ("shop2", "new-2"),
    }


def test_metadata_only_registers_new_skus_too_and_says_the_stock_is_not_changed(actor, store):
    from stores.models import StoreSku

    up = upload(actor, store, "sku,quantity\nNew-1,3\n", mode=UploadedFile.ImportMode.METADATA_ONLY)
    preview = import_preview(up)
    assert preview.quantities_ignored
    assert not import_preview(upload(actor, store)).quantities_ignored
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert StoreSku.objects.filter(store=store, sku_id="new-1").exists()


# --- the page --------------------------------------------------------------------------------


def test_the_confirmed_page_shows_the_frozen_rows_and_no_reload(
    importer, actor, store, django_capture_on_commit_callbacks
):
    SkuFactory(sku_id="Known-1", initial_stock=10)
    post_file(importer, "sku,quantity\nKnown-1,7\n", store)
    up = UploadedFile.objects.get()
    url = reverse("imports:preview", args=[up.file_id])
    importer.post(reverse("imports:confirm", args=[up.file_id]), {"token": up.token})
    # Drawn while the run waits for its worker: the page reloads once the run ends.
    waiting = importer.get(url).content.decode()
    assert "imports/preview.js" in waiting
    assert '<span id="upload-status">pending</span>' in waiting
    run = SyncRun.objects.get(kind="import")
    with django_capture_on_commit_callbacks(execute=True):
        import_confirm_run(run_id=run.pk)
    stock_adjust(sku_id="known-1", quantity=1, reason="found one", actor=actor)
    page = importer.get(url).content.decode()
    assert "imports/preview.js" not in page
    assert '<span id="upload-status">confirmed</span>' in page
    assert 'id="applied-note"' in page
    assert "10 → 7" in page  # as applied, not 8 → 7 against today's stock
    assert AppliedUpload.objects.get().totals["stock"] == 1


def test_the_mode_that_changes_stock_is_said_plainly(importer, store):
    form = importer.get(reverse("imports:upload")).content.decode()
    assert "names and store ids only: stock is not changed" in form
    assert "set stock from the file&#x27;s quantities" in form
    assert "Only “set stock from the file&#x27;s quantities” changes stock" in form
    # No mode is chosen for the user.
    assert '<option value="" selected>' in form
    missing = post_file(importer, "sku,quantity\nNew-1,4\n", store, import_mode="")
    assert "This field is required." in missing.content.decode()
    assert not UploadedFile.objects.exists()
    post_file(importer, "sku,quantity\nNew-1,4\n", store, import_mode="metadata_only")
    up = UploadedFile.objects.get()
    page = importer.get(reverse("imports:preview", args=[up.file_id])).content.decode()
    assert 'id="mode-notice"' in page
    assert "this import changes no stock" in page
    # Zero handling means nothing when no stock is set: not shown.
    assert "0 leaves the stock unchanged" not in page


def test_a_confirm_with_skip_errors_ticked_starts_at_once(importer, store):
    post_file(importer, "sku,quantity\nGood-1,1\nBad-1,x\n", store)
    up = UploadedFile.objects.get()
    response = importer.post(
        reverse("imports:confirm", args=[up.file_id]),
        {"token": up.token, "skip_errors": "on"},
        follow=True,
    )
    assert "Import started" in response.content.decode()
    assert SyncRun.objects.get(kind="import").details["skip_errors"] is True


def test_refusing_errors_now_is_the_pages_choice_the_task_checks_again(
    actor, store, django_capture_on_commit_callbacks
):
    up = upload(actor, store, "sku,quantity\nBad-1,x\nBad-2,y\n")
    ids = {"file_id": up.file_id, "token": up.token, "actor": actor}
    with pytest.raises(ImportHasErrors, match="2 rows have errors") as refused:
        import_confirm_start(**ids, refuse_errors_now=True)
    assert len(refused.value.preview.errors) == 2
    assert not SyncRun.objects.exists()
    # Without it (the API), the run starts and the task refuses the file.
    with django_capture_on_commit_callbacks(execute=True):
        run = import_confirm_start(**ids)
    run.refresh_from_db()
    assert (run.status, "2 rows have errors" in run.error) == ("failed", True)
