"""The purchasing pages: the list's filters, search and paging in a fixed number of
queries, a purchase with its items and their arrival through the services, who may do
what, and the incoming units the SKU page shows through the skus panel registry."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import EventType, InventoryEvent, InventorySnapshot
from events.services import stock_adjust
from inventory_site.permissions import groups_ensure
from purchasing.models import InventoryItem
from purchasing.services import purchase_claim, purchase_delete
from purchasing.tests.factories import (
    FACTORY_ACTOR,
    InventoryItemFactory,
    OfficialAccountFactory,
    PurchasingFactory,
)
from purchasing.views import incoming_panel
from skus.panels import SKU_PANELS, SkuPanel, sku_panel_register, sku_panels

pytestmark = pytest.mark.django_db

ARRIVED = InventoryItem.Status.ARRIVED
LIST = reverse("purchasing:list")


def member(client, group: str) -> User:
    groups_ensure()
    user = User.objects.create_user(f"{group}-1", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def available(sku_id: str) -> int:
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def listed(client, **params) -> set[str]:
    """The order numbers the list shows for ``params``."""
    page = client.get(LIST, params).content.decode()
    body = page.split('id="purchase-list"', 1)[1]
    return set(re.findall(r'<a href="/purchasing/\d+/">([^<]+)</a>', body))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestList:
    def test_filters_and_search(self, client):
        member(client, "viewer")
        locked = PurchasingFactory(order_number="ORD-LOCKED")
        assert purchase_claim(worker="w1", limit=1) == [locked]
        account = OfficialAccountFactory(account_id="ACC-A")
        PurchasingFactory(
            order_number="ORD-A",
            delivery_status="shipped",
            payment_method="credit_card",
            official_account=account,
            tracking_number="TRK-1",
            batch_encoding="BATCH-2025-01",
            batch_level_1="L1",
            batch_level_2="L2",
            batch_level_3="L3",
            creation_source="API",
            account_used="buyer@example.com",
        )
        PurchasingFactory(order_number="ORD-B", batch_encoding="BATCH-2024-12")
        gone = PurchasingFactory(order_number="ORD-GONE")
        purchase_delete(purchase_id=gone.pk, actor=FACTORY_ACTOR)

        assert listed(client) == {"ORD-A", "ORD-B", "ORD-LOCKED"}
        assert listed(client, delivery_status="shipped") == {"ORD-A"}
        assert listed(client, payment_method="credit_card") == {"ORD-A"}
        assert listed(client, order_number="ORD-B") == {"ORD-B"}
        assert listed(client, official_account=str(account.pk)) == {"ORD-A"}
        assert listed(client, tracking_number="TRK-1") == {"ORD-A"}
        assert listed(client, batch_encoding="BATCH-2024-12") == {"ORD-B"}
        assert listed(client, batch_level_1="L1") == {"ORD-A"}
        assert listed(client, batch_level_2="L2") == {"ORD-A"}
        assert listed(client, batch_level_3="L3") == {"ORD-A"}
        assert listed(client, batch_level_3="L1") == set()
        assert listed(client, creation_source="API") == {"ORD-A"}
        assert listed(client, is_locked="true") == {"ORD-LOCKED"}
        assert listed(client, is_locked="false") == {"ORD-A", "ORD-B"}
        assert listed(client, is_deleted="true") == {"ORD-GONE"}
        assert listed(client, is_deleted="all") == {"ORD-A", "ORD-B", "ORD-LOCKED", "ORD-GONE"}
        # q: uuid, order number, tracking number, account used, batch code (icontains).
        assert listed(client, q="batch-2025") == {"ORD-A"}
        assert listed(client, q="trk-") == {"ORD-A"}
        assert listed(client, q="buyer@") == {"ORD-A"}
        assert listed(client, q="ord-b") == {"ORD-B"}
        assert listed(client, q=locked.uuid[9:25]) == {"ORD-LOCKED"}
        assert listed(client, q="no such thing") == set()
        assert "No purchase matches." in client.get(LIST, {"q": "nothing"}).content.decode()
        # An unknown choice filters nothing rather than failing.
        assert listed(client, delivery_status="bogus") == {"ORD-A", "ORD-B", "ORD-LOCKED"}

    def test_counts_items_and_arrivals_newest_first_and_pages(self, client, sku):
        member(client, "viewer")
        first = PurchasingFactory(order_number="ORD-FIRST")
        InventoryItemFactory(purchase=first, sku_id=sku.sku_id, status=ARRIVED)
        InventoryItemFactory(purchase=first, sku_id=sku.sku_id)
        InventoryItemFactory(purchase=first)
        for n in range(51):
            PurchasingFactory(order_number=f"ORD-{n:03d}")
        page1 = client.get(LIST).content.decode()
        assert "ORD-050" in page1
        assert "ORD-FIRST" not in page1  # the oldest, on page 2
        assert "page 1 of 2" in page1
        page2 = client.get(LIST, {"page": 2}).content.decode()
        row = page2.split(f'id="purchase-{first.pk}"', 1)[1].split("</tr>", 1)[0]
        assert '<td class="item-count">3</td>' in row
        assert '<td class="arrived-count">1</td>' in row
        assert page1.index("ORD-050") < page1.index("ORD-049")
        # Filters are kept across pages.
        assert "q=ORD" in client.get(LIST, {"q": "ORD"}).content.decode()

    def test_queries_do_not_grow_with_rows(self, client, sku):
        member(client, "viewer")
        account = OfficialAccountFactory()

        def make(n: int) -> None:
            for _ in range(n):
                purchase = PurchasingFactory(official_account=account)
                InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, status=ARRIVED)
                InventoryItemFactory(purchase=purchase)

        make(2)
        client.get(LIST)  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as few:
            assert client.get(LIST).status_code == 200
        make(10)
        with CaptureQueriesContext(connection) as many:
            page = client.get(LIST).content.decode()
        assert page.count('<td class="item-count">2</td>') == 12
        assert len(many.captured_queries) == len(few.captured_queries)


class TestPermissions:
    def test_anonymous_is_sent_to_log_in(self, client):
        purchase = PurchasingFactory()
        for url in (LIST, reverse("purchasing:detail", args=[purchase.pk])):
            response = client.get(url)
            assert response.status_code == 302
            assert "/admin/login/" in response.url

    def test_staff_without_the_permission_is_refused(self, client):
        purchase = PurchasingFactory()
        item = InventoryItemFactory(purchase=purchase)
        user = User.objects.create_user("nobody", password="pw", is_staff=True)
        client.force_login(user)
        assert client.get(LIST).status_code == 403
        assert client.get(reverse("purchasing:detail", args=[purchase.pk])).status_code == 403
        arrive = reverse("purchasing:arrive", args=[purchase.pk])
        assert client.post(arrive, {"item": [item.pk]}).status_code == 403
        item.refresh_from_db()
        assert item.status == InventoryItem.Status.IN_TRANSIT

    def test_viewer_sees_the_page_without_forms_and_may_not_post(self, client, sku):
        member(client, "viewer")
        purchase = PurchasingFactory(order_number="ORD-V")
        item = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=2)
        page = client.get(reverse("purchasing:detail", args=[purchase.pk])).content.decode()
        assert "ORD-V" in page
        assert f'id="item-{item.pk}"' in page
        assert 'id="arrive-form"' not in page
        assert "item-status-form" not in page
        arrive = reverse("purchasing:arrive", args=[purchase.pk])
        status = reverse("purchasing:item_status", args=[purchase.pk, item.pk])
        assert client.post(arrive, {"item": [item.pk]}).status_code == 403
        assert client.post(status, {"status": "arrived"}).status_code == 403
        assert not InventoryEvent.objects.filter(event_type=EventType.RECEIPT).exists()
        assert available(sku.sku_id) == 10

    def test_actions_are_post_only(self, client):
        member(client, "operator")
        purchase = PurchasingFactory()
        assert client.get(reverse("purchasing:arrive", args=[purchase.pk])).status_code == 405


class TestDetail:
    def test_shows_fields_and_items(self, client, sku):
        member(client, "viewer")
        account = OfficialAccountFactory(account_id="ACC-D", name="")
        purchase = PurchasingFactory(
            order_number="ORD-D", tracking_number="TRK-D", official_account=account
        )
        InventoryItemFactory(
            purchase=purchase, sku_id=sku.sku_id, quantity=4, flag="F-1", product_type="phone"
        )
        page = client.get(reverse("purchasing:detail", args=[purchase.pk])).content.decode()
        fields = page.split('id="purchase-fields"', 1)[1].split("</table>", 1)[0]
        assert purchase.uuid in fields
        assert "TRK-D" in fields
        assert "ACC-D" in fields
        assert "<td>awaiting confirmation</td>" in fields
        items = page.split('id="purchase-items"', 1)[1].split("</table>", 1)[0]
        assert "<td>F-1</td>" in items
        assert "<td>phone</td>" in items
        assert reverse("skus:detail", args=[sku.sku_id]) in items
        assert '<td class="received">0</td>' in items
        assert client.get(reverse("purchasing:detail", args=[999999])).status_code == 404

    def test_bulk_arrival_makes_one_receipt_per_item_once(self, client, sku, other_sku):
        member(client, "operator")
        purchase = PurchasingFactory()
        one = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=2)
        two = InventoryItemFactory(purchase=purchase, sku_id=other_sku.sku_id, quantity=5)
        left = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=7)
        stranger = InventoryItemFactory(sku_id=sku.sku_id, quantity=9)  # another purchase
        detail = reverse("purchasing:detail", args=[purchase.pk])
        page = client.get(detail).content.decode()
        assert 'id="arrive-form"' in page
        arrive = reverse("purchasing:arrive", args=[purchase.pk])
        data = {"item": [one.pk, two.pk, stranger.pk]}
        response = client.post(arrive, data, follow=True)
        assert response.redirect_chain[-1][0] == detail
        assert "2 items marked arrived." in messages_of(response)
        receipts = InventoryEvent.objects.filter(event_type=EventType.RECEIPT)
        assert sorted(receipts.values_list("sku_id", "quantity")) == sorted(
            [(sku.sku_id, 2), (other_sku.sku_id, 5)]
        )
        assert (available(sku.sku_id), available(other_sku.sku_id)) == (12, 5)
        for item, status in ((one, ARRIVED), (two, ARRIVED), (left, "in_transit")):
            item.refresh_from_db()
            assert item.status == status
        stranger.refresh_from_db()
        assert stranger.status == "in_transit"
        # The same form submitted again adds nothing.
        client.post(arrive, data)
        assert receipts.count() == 2
        assert available(sku.sku_id) == 12
        # Nothing ticked: a warning, nothing written.
        response = client.post(arrive, {}, follow=True)
        assert "Select at least one item." in messages_of(response)
        assert receipts.count() == 2

    def test_set_one_items_status(self, client, sku):
        member(client, "operator")
        purchase = PurchasingFactory()
        item = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=3)
        url = reverse("purchasing:item_status", args=[purchase.pk, item.pk])
        response = client.post(url, {"status": "arrived"}, follow=True)
        assert any("is now" in m for m in messages_of(response))
        assert available(sku.sku_id) == 13
        client.post(url, {"status": "abnormal"})
        assert available(sku.sku_id) == 10
        assert InventoryEvent.objects.filter(event_type=EventType.RECEIPT_REVERSED).count() == 1
        response = client.post(url, {"status": "lost at sea"}, follow=True)
        assert "Choose a status." in messages_of(response)
        item.refresh_from_db()
        assert item.status == "abnormal"
        # An item of another purchase is not found under this one.
        other = InventoryItemFactory()
        wrong = reverse("purchasing:item_status", args=[purchase.pk, other.pk])
        assert client.post(wrong, {"status": "arrived"}).status_code == 404

    def test_a_refused_change_shows_the_message_and_changes_nothing(self, client, sku, actor):
        member(client, "operator")
        purchase = PurchasingFactory()
        item = InventoryItemFactory(
            purchase=purchase, sku_id=sku.sku_id, quantity=3, status=ARRIVED
        )
        stock_adjust(sku_id=sku.sku_id, quantity=-12, reason="sold", actor=actor)
        events = InventoryEvent.objects.count()
        url = reverse("purchasing:item_status", args=[purchase.pk, item.pk])
        response = client.post(url, {"status": "abnormal"}, follow=True)
        assert response.status_code == 200
        assert any("does not allow oversell" in m for m in messages_of(response))
        item.refresh_from_db()
        assert (item.status, item.received_quantity) == (ARRIVED, 3)
        assert available(sku.sku_id) == 1
        assert InventoryEvent.objects.count() == events


class TestSkuPanel:
    def test_sku_page_shows_incoming_until_arrived(self, client, sku):
        member(client, "operator")
        purchase = PurchasingFactory(order_number="ORD-IN")
        item = InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, quantity=4)
        InventoryItemFactory(sku_id=sku.sku_id, quantity=100, status="abnormal")  # not incoming
        gone = PurchasingFactory(order_number="ORD-GONE")
        InventoryItemFactory(purchase=gone, sku_id=sku.sku_id, quantity=50)
        purchase_delete(purchase_id=gone.pk, actor=FACTORY_ACTOR)
        url = reverse("skus:detail", args=[sku.sku_id])

        page = client.get(url).content.decode()
        incoming = page.split('id="incoming"', 1)[1].split("</p>", 1)[0]
        assert "<strong>4</strong>" in incoming
        assert (
            f'href="{reverse("purchasing:detail", args=[purchase.pk])}">ORD-IN</a>: 4' in incoming
        )
        assert "ORD-GONE" not in incoming
        assert "<strong>10</strong>" in page.split('id="available"', 1)[1].split("</p>", 1)[0]

        client.post(reverse("purchasing:arrive", args=[purchase.pk]), {"item": [item.pk]})
        page = client.get(url).content.decode()
        incoming = page.split('id="incoming"', 1)[1].split("</p>", 1)[0]
        assert "<strong>0</strong>" in incoming
        assert "ORD-IN" not in incoming
        assert "<strong>14</strong>" in page.split('id="available"', 1)[1].split("</p>", 1)[0]

    def test_the_registry(self, sku):
        assert incoming_panel in SKU_PANELS  # registered by PurchasingConfig.ready
        assert sku_panel_register(incoming_panel) is incoming_panel
        assert SKU_PANELS.count(incoming_panel) == 1

        def nothing(sku):
            return None

        def hello(sku):
            return SkuPanel(title="Hello", template="x.html", context={"id": sku.sku_id})

        SKU_PANELS.extend([nothing, hello])
        try:
            panels = sku_panels(sku)
        finally:
            SKU_PANELS.remove(nothing)
            SKU_PANELS.remove(hello)
        assert [panel.title for panel in panels] == ["Incoming", "Hello"]
        assert panels[1].context == {"id": sku.sku_id}


def test_the_nav_links_to_purchasing_for_those_who_may_see_it(client):
    member(client, "viewer")
    page = client.get(reverse("skus:list")).content.decode()
    assert f'<a href="{LIST}" id="nav-purchasing"' in page
    nobody = User.objects.create_user("clerk", password="pw", is_staff=True)
    nobody.user_permissions.add(Permission.objects.get(codename="view_sku"))
    client.force_login(nobody)
    page = client.get(reverse("skus:list")).content.decode()
    assert "Dashboard" in page  # the staff nav is there
    assert "nav-purchasing" not in page
