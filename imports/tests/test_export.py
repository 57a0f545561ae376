"""The export opens right in Excel and comes back as "no change"."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from events.services import stock_adjust
from imports.models import UploadedFile
from imports.parsing import escape_formula, parse, unescape_formula
from imports.resources import TEMPLATE_HEADER, encoded, export_lines
from imports.services import Action, import_confirm, import_preview, upload_create
from skus.models import Sku
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

ODD_IDS = ["=SUM(A1)", "+81-90", "-minus", "@home", "'quoted", "''=twice"]


@pytest.fixture
def store():
    return StoreFactory(store_id="shop1")


def exporter(client):
    user = User.objects.create_user("exp", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_sku"))
    client.force_login(user)
    return client


def download(client, **params) -> bytes:
    response = client.get(reverse("imports:export"), params)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def reupload(raw: bytes, actor, store, zero="ignore"):
    up = upload_create(
        filename="export.csv",
        content=raw,
        store_id=store.store_id,
        import_mode=UploadedFile.ImportMode.RESET_STOCK,
        zero_handling=zero,
        actor=actor,
    )
    return import_preview(up)


@pytest.mark.parametrize("value", [*ODD_IDS, "plain", "", "'", "x'=y", "\tTab"])
def test_escaping_reads_back_exactly(value):
    assert unescape_formula(escape_formula(value)) == value


def test_the_export_comes_back_unchanged_even_for_formula_like_ids(client, actor, store):
    for sku_id in ODD_IDS:
        SkuFactory(sku_id=sku_id, sku_name=f"={sku_id}", initial_stock=3)
    SkuFactory(sku_id="Zero-1", sku_name="nothing left", initial_stock=0)
    oversold = SkuFactory(sku_id="Over-1", sku_name="oversold", allow_oversell=True)
    stock_adjust(sku_id=oversold.sku_id, quantity=-2, reason="sold twice", actor=actor)
    raw = download(exporter(client))
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(TEMPLATE_HEADER)
    assert "'=SUM(A1),'==SUM(A1),3,,,," in text.splitlines()
    skus_before = Sku.objects.count()

    for zero in ("ignore", "set_zero"):
        preview = reupload(raw, actor, store, zero=zero)
        assert preview.errors == []
        by_id = {row.sku_id: row for row in preview.rows}
        assert {row.action for row in preview.rows} == {Action.NO_CHANGE}, [
            (row.raw_sku, row.action, row.message) for row in preview.rows
        ]
        # The ids as they are, not with the "'" the export put in front of them.
        assert {sku_id.lower() for sku_id in ODD_IDS} <= set(by_id)
        assert by_id["over-1"].stock_to is None
    up = UploadedFile.objects.order_by("created_at").last()
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert Sku.objects.count() == skus_before
    assert Sku.objects.get(pk="=sum(a1)").sku_name == "==SUM(A1)"


def test_a_negative_quantity_other_than_the_stock_is_still_an_error(actor, store):
    oversold = SkuFactory(sku_id="Over-1", allow_oversell=True)
    stock_adjust(sku_id=oversold.sku_id, quantity=-2, reason="sold twice", actor=actor)
    SkuFactory(sku_id="Fine-1", initial_stock=4)
    preview = reupload(b"sku,quantity\nOver-1,-3\nFine-1,-4\nNew-1,-1\n", actor, store)
    assert [(row.sku_id, row.action) for row in preview.rows] == [
        ("over-1", Action.ERROR),
        ("fine-1", Action.ERROR),
        ("new-1", Action.ERROR),
    ]
    assert all("negative" in row.message for row in preview.rows)
    assert all(row.stock_to is None for row in preview.rows)


def test_cp932_on_request_for_excel_in_japanese(client, actor, store):
    SkuFactory(sku_id="Cup-1", sku_name="湯呑み 髙", initial_stock=2)
    SkuFactory(sku_id="Emoji-1", sku_name="mug ☕ 🍵", initial_stock=5)
    SkuFactory(sku_id="杯子-😀", sku_name="cup", initial_stock=1)
    client = exporter(client)
    response = client.get(reverse("imports:export"), {"encoding": "cp932"})
    assert response["Content-Type"] == "text/csv; charset=windows-31j"
    assert "cp932" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("cp932")
    lines = text.splitlines()
    assert "Cup-1,湯呑み 髙,2,,,," in lines
    # A name CP932 cannot hold is left blank (a blank name renames nothing); an id it
    # cannot hold is left out (the UTF-8 export has it).
    assert "Emoji-1,,5,,,," in lines
    assert "杯子" not in text
    preview = reupload(raw, actor, store)
    assert {row.action for row in preview.rows} == {Action.NO_CHANGE}
    assert Sku.objects.get(pk="emoji-1").sku_name == "mug ☕ 🍵"
    # An encoding we do not offer falls back to UTF-8.
    assert download(client, encoding="latin-1").startswith(b"\xef\xbb\xbf")


def test_encoded_refuses_an_encoding_it_does_not_offer():
    with pytest.raises(ValueError, match="latin-1"):
        list(encoded(iter(["x"]), "latin-1"))


def test_the_export_has_the_template_columns_and_parses_as_a_table():
    SkuFactory(sku_id="Mug-1", sku_name="Mug", initial_stock=6)
    parsed = parse("".join(export_lines()), need_quantity=True)
    assert parsed.kind == "table"
    row = next(row for row in parsed.rows if row.sku == "Mug-1")
    assert (row.quantity, row.name, row.store, row.manage_number) == ("6", "Mug", "", "")
