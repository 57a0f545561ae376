"""Registrations a file asks for go through the engine's one registration service."""

import pytest

from imports.models import UploadedFile
from imports.services import Action, import_confirm_run, import_preview, upload_create
from skus.tests.factories import SkuFactory
from stores.models import StoreSku
from stores.tests.factories import StoreFactory
from sync.models import SyncRun
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db

HEADER = "sku_id,quantity,manage_number,variant_id\n"


def _upload(actor, store, text):
    return upload_create(
        filename="ids.csv",
        content=text.encode(),
        store_id=store.store_id,
        import_mode=UploadedFile.ImportMode.RESET_STOCK,
        zero_handling=UploadedFile.ZeroHandling.IGNORE,
        actor=actor,
    )


def test_a_variant_held_by_another_sku_is_an_error_row_not_a_failed_confirm(actor):
    store = StoreFactory(store_id="shop1")
    SkuFactory(sku_id="Owner-1", initial_stock=1)
    store_sku_register(
        store_id="shop1", sku_id="owner-1", manage_number="item", variant_id="V1", actor=actor
    )
    up = _upload(actor, store, HEADER + "Other-1,4,item,V1\nFine-1,2,item,V2\n")
    rows = {row.sku_id: row for row in import_preview(up).rows}
    assert rows["other-1"].action == Action.ERROR
    assert "already registered to SKU owner-1" in rows["other-1"].message
    assert rows["fine-1"].action == Action.CREATE
    # An id RMS would refuse is an error row too, with the binder's reason.
    up = _upload(actor, store, HEADER + "Spaced-1,4,item,V 1\n")
    (row,) = import_preview(up).rows
    assert (row.action, "may hold only letters" in row.message) == (Action.ERROR, True)


def test_an_unexpected_failure_ends_the_run_and_the_upload_failed(actor, monkeypatch):
    store = StoreFactory(store_id="shop1")
    up = _upload(actor, store, HEADER + "New-1,4,item,V1\n")
    run = SyncRun.objects.create(
        store=store,
        kind=SyncRun.Kind.IMPORT,
        operator=actor.username,
        details={"file_id": str(up.file_id), "skip_errors": False},
    )

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("imports.services.store_sku_register_many", boom)
    with pytest.raises(RuntimeError):
        import_confirm_run(run_id=run.pk)
    run.refresh_from_db()
    up.refresh_from_db()
    assert (run.status, run.error) == (SyncRun.Status.FAILED, "RuntimeError: disk full")
    assert run.finished_at is not None
    assert (up.status, up.error) == (UploadedFile.Status.FAILED, "RuntimeError: disk full")
    assert not StoreSku.objects.filter(sku_id="new-1").exists()  # nothing applied
