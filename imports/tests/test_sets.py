"""Sets in a CSV: a components column defines a set (its components may be created by the
same file), mistakes are error rows of the preview, a set's quantity stays blank, and the
export of sets comes back as "no change"."""

import pytest

from events.models import InventoryEvent
from imports.models import UploadedFile
from imports.parsing import ImportFileError, format_components, parse_components
from imports.resources import export_csv
from imports.services import Action, import_confirm, import_preview, upload_create
from skus.models import SkuComponent
from skus.services import set_define
from skus.sets import availability
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(store_id="shop1")


def preview(text, actor, store, mode=UploadedFile.ImportMode.RESET_STOCK):
    up = upload_create(
        filename="sets.csv",
        content=text.encode(),
        store_id=store.store_id,
        import_mode=mode,
        zero_handling="ignore",
        actor=actor,
    )
    return up, import_preview(up)


def by_sku(result):
    return {row.sku_id: row for row in result.rows}


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        ("cup*2;saucer", [("cup", 2), ("saucer", 1)]),
        ("cup × 2 | saucer＊3", [("cup", 2), ("saucer", 3)]),
        ("cup*2\nspoon", [("cup", 2), ("spoon", 1)]),
        ("", []),
    ],
)
def test_a_components_cell_reads_several_spellings(cell, parts):
    assert parse_components(cell) == parts


def test_an_unreadable_quantity_is_named():
    with pytest.raises(ImportFileError, match="“cup\\*two”"):
        parse_components("cup*two")
    assert format_components({"saucer": 1, "cup": 2}) == "cup*2;saucer*1"


def test_a_file_defines_a_set_from_components_it_creates_and_confirming_applies_it(actor, store):
    SkuFactory(sku_id="Cup", initial_stock=10)
    text = (
        "sku_id,sku_name,quantity,components\nSaucer,Saucer,4,\nGift,Cup and saucer,,cup*2;saucer\n"
    )
    up, result = preview(text, actor, store)
    rows = by_sku(result)
    assert rows["gift"].action == Action.CREATE
    assert rows["gift"].components_to == {"cup": 2, "saucer": 1}
    assert rows["saucer"].action == Action.CREATE
    import_confirm(file_id=up.file_id, token=up.token, actor=actor)
    assert dict(
        SkuComponent.objects.filter(set_id="gift").values_list("component_id", "quantity")
    ) == {"cup": 2, "saucer": 1}
    assert availability(["gift"]) == {"gift": 4}  # min(10 // 2, 4)
    assert not InventoryEvent.objects.filter(sku_id="gift").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Gift,Gift,,nothing*1", "unknown SKU nothing"),
        ("Gift,Gift,,gift*1", "cannot be a component of itself"),
        ("Gift,Gift,,cup*0", "from 1 to 999"),
        ("Gift,Gift,,cup*x", "whole number"),
        ("Gift,Gift,5,cup*1", "leave its quantity blank"),
        ("Hamper,Hamper,,box*1", "is a set itself"),
        ("Cup,Cup,,saucer*1", "cannot be a set itself"),
        ("Mug,Mug,,cup*1", "stock events of its own"),
    ],
)
def test_mistakes_are_error_rows_of_the_preview(actor, store, line, message):
    SkuFactory(sku_id="Cup", initial_stock=10)
    SkuFactory(sku_id="Saucer", initial_stock=3)
    SkuFactory(sku_id="Mug", initial_stock=1)
    SkuFactory(sku_id="Box")
    set_define(sku_id="box", components=[("cup", 1)], actor=actor)
    _up, result = preview("sku_id,sku_name,quantity,components\n" + line + "\n", actor, store)
    (row,) = result.rows
    assert row.action == Action.ERROR
    assert message in row.message
    assert row.components_to is None


def test_a_set_in_a_stock_file_needs_a_blank_quantity(actor, store):
    SkuFactory(sku_id="Cup", initial_stock=10)
    SkuFactory(sku_id="Box")
    set_define(sku_id="box", components=[("cup", 1)], actor=actor)
    _up, result = preview("sku_id,quantity\nBox,3\nCup,8\n", actor, store)
    rows = by_sku(result)
    assert rows["box"].action == Action.ERROR
    assert "leave its quantity blank" in rows["box"].message
    assert rows["cup"].action == Action.STOCK


def test_the_export_of_sets_comes_back_as_no_change(actor, store):
    SkuFactory(sku_id="Cup", initial_stock=10)
    SkuFactory(sku_id="Saucer", initial_stock=3)
    SkuFactory(sku_id="Gift", sku_name="Gift")
    set_define(sku_id="gift", components=[("cup", 2), ("saucer", 1)], actor=actor)
    text = export_csv()
    assert "Gift,Gift,,,,,cup*2;saucer*1" in text.splitlines()
    _up, result = preview(text, actor, store)
    assert {row.action for row in result.rows} == {Action.NO_CHANGE}
    # Changing the recipe in the file is an update of the set.
    changed = text.replace("cup*2;saucer*1", "cup*3")
    _up, result = preview(changed, actor, store)
    gift = by_sku(result)["gift"]
    assert (gift.action, gift.components_from, gift.components_to) == (
        Action.UPDATE,
        {"cup": 2, "saucer": 1},
        {"cup": 3},
    )
