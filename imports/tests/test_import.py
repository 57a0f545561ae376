"""CSV import: reading files, preview, confirm, and every kind of bad input."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from events.actors import Actor
from events.models import AuditLog, EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.selectors import snapshot_drift
from imports.models import UploadedFile
from imports.parsing import ImportFileError, decode, header_key, parse
from imports.resources import escape_formula, export_csv, template_csv
from imports.services import (
    Action,
    ImportRefused,
    import_cancel,
    import_confirm,
    import_preview,
    upload_create,
)
from skus.models import Sku
from skus.tests.factories import SkuFactory
from stores.models import StoreSku
from stores.tests.factories import StoreFactory
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db
RESET = UploadedFile.ImportMode.RESET_STOCK
META = UploadedFile.ImportMode.METADATA_ONLY


@pytest.fixture
def store():
    return StoreFactory(store_id="shop1")


def upload(content, actor, store, *, mode=RESET, zero="ignore", encoding="utf-8"):
    raw = content.encode(encoding) if isinstance(content, str) else content
    return upload_create(
        filename="stock.csv",
        content=raw,
        store_id=store.store_id,
        import_mode=mode,
        zero_handling=zero,
        actor=actor,
    )


def stock(sku_id):
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def plans(preview):
    return {
        row.line: (row.sku_id, row.action, row.stock_from, row.stock_to) for row in preview.rows
    }


# --- reading files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("sku,quantity,name\r\nMug-1,3,髙﨑の構ソ\r\n", "utf-8"),
        ("sku,quantity,name\nMug-1,3,髙﨑の構ソ\n", "utf-8-sig"),
        ("sku\tquantity\tname\r\nMug-1\t3\t髙﨑の構ソ\r\n", "cp932"),
    ],
)
def test_encodings_separators_and_line_ends(raw, encoding):
    parsed = parse(decode(raw.encode(encoding)), need_quantity=True)
    (row,) = parsed.rows
    assert (row.sku, row.quantity, row.name) == ("Mug-1", "3", "髙﨑の構ソ")


def test_headers_match_leniently_and_aliases():
    assert header_key(" ＳＫＵ＿ＩＤ ") == header_key("sku_id") == "skuid"
    text = "商品名称,SKU编号,库存,店铺编号,価格\nカップ,Cup-1,4,shop2,1200\n"
    (row,) = parse(text, need_quantity=True).rows
    assert (row.sku, row.quantity, row.name, row.store) == ("Cup-1", "4", "カップ", "shop2")


def test_rakuten_item_csv():
    text = (
        "商品管理番号（商品URL）,商品番号,商品名,SKU管理番号,システム連携用SKU番号,販売価格,在庫数\r\n"
        "tshirt,T-1,Tシャツ,,,2000,\r\n"
        "tshirt,,,Tshirt-RED-M,TRM-001,2000,5\r\n"
        "tshirt,,,Tshirt-RED-L,,2000,0\r\n"
    )
    parsed = parse(decode(text.encode("cp932")), need_quantity=True)
    assert parsed.kind == "rakuten"
    product, medium, large = parsed.rows
    assert product.skip == "product"
    assert (medium.sku, medium.name, medium.variant_id, medium.merchant_sku_id) == (
        "TRM-001",
        "Tシャツ",
        "Tshirt-RED-M",
        "TRM-001",
    )
    assert (large.sku, large.quantity) == ("Tshirt-RED-L", "0")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"\xff\xfe\xfa\xfb\x80\x81", "neither UTF-8"),
        (b"sku,quantity\n", "no rows"),
        (b"name,price\nx,1\n", "No SKU column"),
        (b"sku,name\nx,y\n", "No quantity column"),
    ],
)
def test_files_that_cannot_be_read_are_refused_and_nothing_is_kept(actor, store, raw, message):
    with pytest.raises(ImportFileError, match=message):
        upload(raw, actor, store)
    assert UploadedFile.objects.count() == 0


def test_a_file_over_20_mb_is_refused(actor, store):
    with pytest.raises(ImportFileError, match="20 MB"):
        upload(b"sku,quantity\n" + b"a,1\n" * (6 * 1024 * 1024), actor, store)


def test_bad_mode_zero_handling_and_store_are_refused(actor, store):
    with pytest.raises(ImportRefused, match="import mode"):
        upload("sku,quantity\na,1\n", actor, store, mode="everything")
    with pytest.raises(ImportRefused, match="zero handling"):
        upload("sku,quantity\na,1\n", actor, store, zero="maybe")
    with pytest.raises(ImportRefused, match="Unknown store"):
        upload_create(
            filename="x.csv",
            content=b"sku,quantity\na,1\n",
            store_id="nope",
            import_mode=RESET,
            zero_handling="ignore",
            actor=actor,
        )
    assert UploadedFile.objects.count() == 0


# --- preview -------------------------------------------------------------------------


def test_preview_shows_every_action_and_changes_nothing(actor, store):
    SkuFactory(sku_id="Known-1", sku_name="Old name", initial_stock=10)
    SkuFactory(sku_id="Same-1", sku_name="Same", initial_stock=4)
    content = (
        "sku_id,sku_name,quantity,store_id\n"
        "Known-1,New name,7,\n"
        "New-1,Fresh,3,\n"
        "Same-1,Same,4,\n"
        "Known-1,dup,1,\n"
        "Bad-2,,x,\n"
        "Neg-1,,-2,\n"
        "Big-1,,100000,\n"
        f"{'L' * 33},,1,\n"
        "Other-1,,1,nowhere\n"
        "Zero-1,,0,\n"
        "Blank-1,,,\n"
        "Bad id!,,1,\n"
    )
    up = upload(content, actor, store)
    preview = import_preview(up)
    got = plans(preview)
    assert got[2] == ("known-1", Action.STOCK, 10, 7)
    assert preview.rows[0].name_from == "Old name"
    assert got[3] == ("new-1", Action.CREATE, 0, 3)
    assert got[4] == ("same-1", Action.NO_CHANGE, None, None)
    errors = {row.line: row.message for row in preview.errors}
    assert "also on line 2" in errors[5]
    assert "not a whole number" in errors[6]
    assert "negative" in errors[7]
    assert "over 99,999" in errors[8]
    assert "32 bytes" in errors[9]
    assert "unknown store nowhere" in errors[10]
    assert 13 in errors
    assert got[11][1] == Action.CREATE
    assert "ignored" in preview.rows[9].message
    assert got[12][1] == Action.CREATE
    assert got[12][3] is None
    assert preview.totals["rows"] == 12
    assert stock("known-1") == 10
    assert not Sku.objects.filter(pk="new-1").exists()


@pytest.mark.parametrize(
    ("zero", "quantity", "expected"),
    [
        ("ignore", "0", 5),
        ("set_zero", "0", 0),
        ("zero_negative", "0", 0),
        ("zero_negative", "-3", 0),
        ("set_zero", "", 5),
        ("ignore", "8", 8),
    ],
)
def test_zero_handling(actor, store, zero, quantity, expected):
    SkuFactory(sku_id="Z-1", initial_stock=5)
    up = upload(f"sku,quantity\nZ-1,{quantity}\n", actor, store, zero=zero)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert stock("z-1") == expected


def test_negative_is_an_error_unless_zero_negative(actor, store):
    SkuFactory(sku_id="Z-1", initial_stock=5)
    up = upload("sku,quantity\nZ-1,-1\n", actor, store, zero="set_zero")
    with pytest.raises(ImportRefused, match="1 row has an error"):
        import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert stock("z-1") == 5


# --- confirm ---------------------------------------------------------------------------


def test_confirm_applies_once_in_one_transaction(actor, store):
    SkuFactory(sku_id="Known-1", sku_name="Old", initial_stock=10)
    store_sku_register(
        store_id=store.store_id,
        sku_id="known-1",
        manage_number="k",
        variant_id="Known-1",
        actor=actor,
    )
    up = upload("sku_id,sku_name,quantity\nKnown-1,New,7\nNew-1,Fresh,3\n", actor, store)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert (stock("known-1"), stock("new-1")) == (7, 3)
    assert Sku.objects.get(pk="known-1").sku_name == "New"
    new = Sku.objects.get(pk="new-1")
    assert (new.original_sku, new.sku_name) == ("New-1", "Fresh")
    events = InventoryEvent.objects.filter(event_type=EventType.IMPORT).order_by("sku_id")
    assert [(e.sku_id, e.quantity, e.balance_after, e.source) for e in events] == [
        ("known-1", -3, 7, "import"),
        ("new-1", 3, 3, "import"),
    ]
    assert PendingPush.objects.filter(store=store, sku_id="known-1").exists()
    assert snapshot_drift() == []
    assert events[0].metadata == {"file_id": str(up.file_id)}
    up.refresh_from_db()
    assert up.status == UploadedFile.Status.CONFIRMED
    audit = AuditLog.objects.get(action="import.confirm")
    assert audit.details["totals"]["stock"] == 1
    with pytest.raises(ImportRefused, match="already"):
        import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert InventoryEvent.objects.filter(event_type=EventType.IMPORT).count() == 2


def test_confirm_revalidates_against_the_stock_now(actor, store):
    SkuFactory(sku_id="Known-1", initial_stock=10)
    up = upload("sku,quantity\nKnown-1,7\n", actor, store)
    from events.services import stock_adjust

    stock_adjust(sku_id="known-1", quantity=5, reason="delivery", actor=actor)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    event = InventoryEvent.objects.get(event_type=EventType.IMPORT)
    assert (event.quantity, stock("known-1")) == (-8, 7)


def test_confirm_with_errors_needs_the_explicit_choice(actor, store):
    up = upload("sku,quantity\nGood-1,4\nBad-1,x\n", actor, store)
    with pytest.raises(ImportRefused):
        import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert not Sku.objects.filter(pk="good-1").exists()
    import_confirm(file_id=up.file_id, token=up.token, actor=actor, skip_errors=True)
    assert stock("good-1") == 4
    assert not Sku.objects.filter(pk="bad-1").exists()


def test_metadata_only_never_touches_stock(actor, store):
    SkuFactory(sku_id="Known-1", sku_name="Old", initial_stock=10)
    up = upload("sku,name,quantity\nKnown-1,New,99\nNew-1,Fresh,5\n", actor, store, mode=META)
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert stock("known-1") == 10
    assert stock("new-1") == 0
    assert Sku.objects.get(pk="known-1").sku_name == "New"
    assert not InventoryEvent.objects.filter(event_type=EventType.IMPORT).exists()


def test_rakuten_file_registers_skus_to_the_store(actor, store):
    text = (
        "商品管理番号（商品URL）,商品名,SKU管理番号,システム連携用SKU番号,在庫数\r\n"
        "Tshirt,Tシャツ,,,\r\n"
        "Tshirt,,Tshirt-RED-M,TRM-001,5\r\n"
        "Tshirt,,Tshirt-RED-L,,0\r\n"
    )
    up = upload(text, actor, store, zero="set_zero", encoding="cp932")
    preview = import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert preview.totals["skipped"] == 1
    medium = StoreSku.objects.get(store=store, sku_id="trm-001").rakuten
    assert (medium.manage_number, medium.variant_id, medium.merchant_sku_id) == (
        "tshirt",
        "Tshirt-RED-M",
        "TRM-001",
    )
    large = StoreSku.objects.get(store=store, sku_id="tshirt-red-l").rakuten
    assert large.variant_id == "Tshirt-RED-L"
    assert Sku.objects.get(pk="tshirt-red-l").sku_name == "Tシャツ"
    assert (stock("trm-001"), stock("tshirt-red-l")) == (5, 0)


@pytest.mark.parametrize(
    ("who", "token", "store_id", "age", "message"),
    [
        ("bob", None, None, 0, "Only alice"),
        ("alice", "forged", None, 0, "not valid"),
        ("alice", None, "elsewhere", 0, "not elsewhere"),
        ("alice", None, None, 25, "24 hours"),
    ],
)
def test_confirm_refusals_write_nothing(actor, store, who, token, store_id, age, message):
    up = upload("sku,quantity\nNew-1,4\n", actor, store)
    with pytest.raises(ImportRefused, match=message):
        import_confirm(
            file_id=up.file_id,
            token=token or up.token,
            actor=Actor(username=who),
            store_id=store_id,
            now=timezone.now() + dt.timedelta(hours=age),
        )
    assert not Sku.objects.filter(pk="new-1").exists()
    up.refresh_from_db()
    assert up.status == UploadedFile.Status.PENDING


def test_cancel(actor, store):
    up = upload("sku,quantity\nNew-1,4\n", actor, store)
    with pytest.raises(ImportRefused):
        import_cancel(file_id=up.file_id, actor=Actor(username="bob"))
    import_cancel(file_id=up.file_id, actor=actor)
    with pytest.raises(ImportRefused, match="already"):
        import_confirm(file_id=up.file_id, token=up.token, actor=actor)


# --- template, export, command -------------------------------------------------------------


def test_template_and_export_read_back(actor, store):
    assert template_csv().startswith("sku_id,sku_name,quantity,store_id")
    SkuFactory(sku_id="Mug-1", sku_name='=HYPERLINK("http://x")', initial_stock=6)
    exported = export_csv()
    assert "Mug-1,\"'=HYPERLINK" in exported
    assert escape_formula("+1") == "'+1"
    assert escape_formula("@x") == "'@x"
    assert escape_formula(5) == 5
    up = upload(exported, actor, store, mode=RESET)
    assert plans(import_preview(up))[3] == ("mug-1", Action.NO_CHANGE, None, None)


def test_import_csv_command(tmp_path, store, capsys):
    SkuFactory(sku_id="Known-1", initial_stock=10)
    path = tmp_path / "stock.csv"
    path.write_text("sku,quantity\nKnown-1,7\n")
    call_command("import_csv", str(path), "--store", store.store_id)
    assert "known-1 stock: 10 -> 7" in capsys.readouterr().out
    assert stock("known-1") == 10
    assert UploadedFile.objects.get().status == UploadedFile.Status.CANCELLED
    call_command("import_csv", str(path), "--store", store.store_id, "--confirm")
    assert stock("known-1") == 7
    path.write_text("sku,quantity\nKnown-1,x\n")
    with pytest.raises(CommandError, match="1 row has an error"):
        call_command("import_csv", str(path), "--store", store.store_id, "--confirm")
    with pytest.raises(CommandError, match="No file"):
        call_command("import_csv", str(tmp_path / "nope.csv"), "--store", store.store_id)
    with pytest.raises(CommandError, match="Unknown store"):
        call_command("import_csv", str(path), "--store", "nope")


def test_the_row_by_row_resource_used_for_comparison():
    import tablib

    from imports.resources import SkuStockResource

    SkuFactory(sku_id="Known-1", initial_stock=2)
    dataset = tablib.Dataset(
        ["Known-1", "Renamed", 9], ["New-2", "Fresh", 4], headers=["sku_id", "sku_name", "quantity"]
    )
    result = SkuStockResource().import_data(dataset, dry_run=False, raise_errors=True)
    assert not result.has_errors()
    assert (stock("known-1"), Sku.objects.get(pk="known-1").sku_name) == (9, "Renamed")
    assert Sku.objects.get(pk="new-2").original_sku == "New-2"


def test_stock_set_many_refuses_unknown_skus_and_negative_targets():
    from events.services import OversellRefused, UnknownSku, stock_set_many

    SkuFactory(sku_id="Known-1", initial_stock=2)
    common = {"event_type": EventType.IMPORT, "source": "import", "operator": "t"}
    with pytest.raises(UnknownSku), transaction.atomic():
        stock_set_many(targets=[("nope", 1, "t1")], **common)
    with pytest.raises(OversellRefused), transaction.atomic():
        stock_set_many(targets=[("known-1", -1, "t2")], **common)
    assert stock("known-1") == 2


def test_the_streamed_export_is_the_resources_text(actor):
    """The export is written a chunk at a time, the same text the library makes."""
    from imports import resources
    from skus.tests.factories import SkuFactory

    SkuFactory(sku_id="Zed-1", sku_name='say "hi", =1+1', initial_stock=4)
    SkuFactory(sku_id="@odd", sku_name="plain", initial_stock=0)
    assert export_csv() == resources.SkuStockResource().export().csv
    header = "sku_id,sku_name,quantity,store_id,manage_number,variant_id,components\r\n"
    assert export_csv().startswith(header)
