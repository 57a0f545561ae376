"""The models hold every field of spec 001's table, with its types, lengths and
defaults; uuids are generated, unique and shaped like the spec's."""

import re

import pytest
from django.db import IntegrityError, models, transaction

from purchasing.models import (
    UUID_MAX_LENGTH,
    InventoryItem,
    OfficialAccount,
    Purchasing,
    new_purchasing_uuid,
)
from purchasing.tests.factories import (
    InventoryItemFactory,
    OfficialAccountFactory,
    PurchasingFactory,
)

pytestmark = pytest.mark.django_db

UUID_SHAPE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{8}){5}$")

# (field, type, max_length, null) as spec 001's table and SQL give them.
PURCHASING_FIELDS = [
    ("uuid", models.CharField, 59, False),
    ("order_number", models.CharField, 50, True),
    ("official_account", models.ForeignKey, None, True),
    ("batch_encoding", models.CharField, 50, False),
    ("batch_level_1", models.CharField, 50, False),
    ("batch_level_2", models.CharField, 50, False),
    ("batch_level_3", models.CharField, 50, False),
    ("created_at", models.DateTimeField, None, False),
    ("confirmed_at", models.DateTimeField, None, True),
    ("shipped_at", models.DateTimeField, None, True),
    ("estimated_website_arrival_date", models.DateField, None, True),
    ("estimated_website_arrival_date_2", models.DateField, None, True),
    ("tracking_number", models.CharField, 50, False),
    ("estimated_delivery_date", models.DateField, None, True),
    ("shipping_method", models.CharField, 100, True),
    ("official_query_url", models.CharField, 500, True),
    ("delivery_status", models.CharField, 30, False),
    ("latest_delivery_status", models.CharField, 10, True),
    ("delivery_status_query_time", models.DateTimeField, None, True),
    ("delivery_status_query_source", models.CharField, 100, True),
    ("last_info_updated_at", models.DateTimeField, None, True),
    ("account_used", models.CharField, 50, False),
    ("payment_method", models.TextField, None, False),
    ("is_locked", models.BooleanField, None, False),
    ("locked_at", models.DateTimeField, None, True),
    ("locked_by_worker", models.CharField, 50, False),
    ("is_deleted", models.BooleanField, None, False),
    ("creation_source", models.CharField, 200, True),
    ("updated_at", models.DateTimeField, None, False),
]


@pytest.mark.parametrize(("name", "kind", "max_length", "null"), PURCHASING_FIELDS)
def test_purchasing_has_each_field_of_the_spec(name, kind, max_length, null):
    field = Purchasing._meta.get_field(name)
    assert type(field) is kind
    assert field.max_length == max_length
    assert field.null is null


def test_purchasing_has_no_other_stored_field_and_its_table():
    stored = {f.name for f in Purchasing._meta.concrete_fields} - {"id"}
    assert stored == {name for name, *_ in PURCHASING_FIELDS}
    assert Purchasing._meta.db_table == "purchasing"
    assert OfficialAccount._meta.db_table == "official_accounts"


def test_defaults_of_a_new_purchase():
    purchase = PurchasingFactory(order_number=None)
    purchase.refresh_from_db()
    assert purchase.delivery_status == Purchasing.DeliveryStatus.PENDING_CONFIRMATION
    assert (purchase.is_locked, purchase.locked_at, purchase.locked_by_worker) == (False, None, "")
    assert purchase.is_deleted is False
    assert purchase.order_number is None
    assert purchase.batch_encoding == purchase.tracking_number == purchase.payment_method == ""
    assert purchase.latest_delivery_status is None
    assert purchase.creation_source is None
    assert purchase.created_at is not None
    assert purchase.updated_at >= purchase.created_at
    assert str(purchase) == purchase.uuid


def test_uuid_is_generated_unique_and_shaped_like_the_spec():
    purchases = [PurchasingFactory() for _ in range(20)]
    uuids = {p.uuid for p in purchases}
    assert len(uuids) == 20
    for value in uuids:
        assert UUID_SHAPE.match(value), value
        assert len(value) <= UUID_MAX_LENGTH
    assert not Purchasing._meta.get_field("uuid").editable
    assert len({new_purchasing_uuid() for _ in range(1000)}) == 1000


def test_the_database_refuses_a_repeated_uuid():
    purchase = PurchasingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchasing.objects.create(uuid=purchase.uuid)


def test_order_numbers_may_repeat_or_be_empty():
    PurchasingFactory(order_number="ORD-1")
    PurchasingFactory(order_number="ORD-1")
    PurchasingFactory(order_number=None)
    assert Purchasing.objects.filter(order_number="ORD-1").count() == 2


def test_delivery_status_choices_and_names():
    assert Purchasing.DeliveryStatus.values == [
        "pending_confirmation",
        "shipped",
        "in_delivery",
        "delivered",
    ]
    purchase = PurchasingFactory(delivery_status="in_delivery")
    assert purchase.get_delivery_status_display() == "in delivery"


def test_indexes_cover_the_specs_filters():
    indexed = {f.name for f in Purchasing._meta.concrete_fields if f.db_index or f.unique}
    assert {
        "uuid",
        "order_number",
        "delivery_status",
        "created_at",
        "tracking_number",
        "is_locked",
        "batch_encoding",
        "official_account",
    } <= indexed
    assert ["-shipped_at"] in [index.fields for index in Purchasing._meta.indexes]


def test_official_account_fields_and_relation():
    account = OfficialAccountFactory(account_id="ACC001", email="user@example.com", name="张三")
    assert {f.name for f in OfficialAccount._meta.concrete_fields} >= {
        "id",
        "account_id",
        "email",
        "name",
    }
    assert OfficialAccount._meta.get_field("account_id").max_length == 50
    assert OfficialAccount._meta.get_field("account_id").unique
    purchase = PurchasingFactory(official_account=account.pk)
    assert list(account.purchasing_orders.all()) == [purchase]
    assert str(account) == "ACC001 (张三)"


def test_item_fields_and_defaults():
    item = InventoryItemFactory(flag="")
    item.refresh_from_db()
    assert item.status == InventoryItem.Status.IN_TRANSIT
    assert (item.quantity, item.received_quantity, item.receipt_revision) == (1, 0, 0)
    assert item.sku is None
    assert item.received_sku is None
    assert item.product_type is None
    assert UUID_SHAPE.match(item.uuid)
    assert item.created_at is not None
    assert str(item) == item.uuid
    assert list(item.purchase.purchasing_inventories.all()) == [item]
    assert InventoryItem.Status.values == ["in_transit", "arrived", "out_of_stock", "abnormal"]
    assert InventoryItem._meta.get_field("sku").null
    assert InventoryItem._meta.get_field("sku").remote_field.on_delete is models.PROTECT
    assert InventoryItem._meta.get_field("purchase").remote_field.on_delete is models.PROTECT


def test_the_database_refuses_a_zero_quantity_and_an_unknown_status():
    item = InventoryItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryItem.objects.filter(pk=item.pk).update(quantity=0)
    item2 = InventoryItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryItem.objects.filter(pk=item2.pk).update(status="lost")


def test_a_purchase_with_items_cannot_be_hard_deleted():
    item = InventoryItemFactory()
    with pytest.raises(models.ProtectedError):
        item.purchase.delete()
