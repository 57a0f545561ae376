import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from events.actors import Actor
from events.models import InventoryEvent
from inventory_site.permissions import groups_ensure
from skus.tests.factories import SkuFactory
from stores.models import StoreSku
from stores.tests.factories import StoreFactory
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)


def test_search_and_filters(client):
    member(client, "viewer")
    SkuFactory(sku_id="Mug-WHITE", sku_name="Mug", initial_stock=40)
    SkuFactory(sku_id="Towel-NAVY", sku_name="<b>Towel</b>", initial_stock=2)
    store = StoreFactory(store_id="tokyo")
    StoreSku.objects.create(store=store, sku_id="mug-white")
    url = reverse("skus:list")
    assert "Towel-NAVY" in client.get(url, {"q": "towel"}).content.decode()
    assert "Mug-WHITE" not in client.get(url, {"q": "towel"}).content.decode()
    low = client.get(url, {"low": "1"}).content.decode()
    assert "Towel-NAVY" in low
    assert "Mug-WHITE" not in low
    assert "&lt;b&gt;Towel&lt;/b&gt;" in low
    assert "Towel-NAVY" not in client.get(url, {"store": "tokyo"}).content.decode()
    assert "ce1111" in client.get(url, {"environment": "test"}).content.decode().lower()


def test_detail_adjust_timeline_and_store_quantities(client):
    member(client, "operator")
    sku = SkuFactory(sku_id="Mug-WHITE", initial_stock=10)
    store = StoreFactory(store_id="outlet", safety_stock=3)
    store_sku_register(
        store_id=store.store_id,
        sku_id=sku.sku_id,
        manage_number="mug",
        variant_id="Mug-WHITE",
        actor=Actor.cli("test"),
    )
    url = reverse("skus:detail", args=["mug-white"])
    page = client.get(url).content.decode()
    assert 'id="stock-chart"' in page
    assert "(outlet):" in page
    why = page[page.index('id="explain-outlet"') :]
    # 10 less the outlet's safety stock of 3, step by step.
    assert "<td>hold back 3</td><td>the store&#x27;s safety stock</td><td>-3</td><td>7</td>" in why
    assert "should show 7" in why
    client.post(url, {"quantity": "-4", "reason": "breakage"})
    assert InventoryEvent.objects.filter(
        sku_id="mug-white", reason="breakage", quantity=-4
    ).exists()
    refused = client.post(
        url, {"quantity": "-50", "reason": "too many"}, follow=True
    ).content.decode()
    assert "from 6 to -44, and the SKU does not allow oversell" in refused
    assert InventoryEvent.objects.filter(sku_id="mug-white").count() == 2
    assert "breakage" in client.get(url).content.decode()


def test_viewers_cannot_adjust(client):
    member(client, "viewer")
    SkuFactory(sku_id="Mug-WHITE", initial_stock=10)
    url = reverse("skus:detail", args=["mug-white"])
    assert 'id="adjust-form"' not in client.get(url).content.decode()
    assert client.post(url, {"quantity": "1", "reason": "x"}).status_code == 403
    assert InventoryEvent.objects.filter(sku_id="mug-white").count() == 1
