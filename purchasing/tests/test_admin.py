"""The admin writes through the services: an item marked arrived here adds its stock,
the bulk action marks many at once, read-only fields stay read-only, and purchases are
only soft-deleted."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from events.models import AuditAction, AuditLog, EventType, InventoryEvent, InventorySnapshot
from events.services import stock_adjust
from inventory_site.permissions import groups_ensure
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from purchasing.services import purchase_claim
from purchasing.tests.factories import (
    InventoryItemFactory,
    OfficialAccountFactory,
    PurchasingFactory,
)

pytestmark = pytest.mark.django_db


def available(sku_id: str) -> int:
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


def item_form(item: InventoryItem, **changes) -> dict:
    data = {
        "flag": item.flag,
        "status": item.status,
        "product_type": item.product_type or "",
        "sku": item.sku_id or "",
        "quantity": item.quantity,
    }
    return {**data, **changes}


def member(client, group: str) -> User:
    groups_ensure()
    user = User.objects.create_user(f"{group}-1", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


class TestItemAdmin:
    def test_status_change_makes_the_receipt_event(self, admin_client, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3)
        url = reverse("admin:purchasing_inventoryitem_change", args=[item.pk])
        assert admin_client.get(url).status_code == 200
        response = admin_client.post(url, item_form(item, status="arrived"))
        assert response.status_code == 302, response.content
        assert available(sku.sku_id) == 13
        event = InventoryEvent.objects.get(event_type=EventType.RECEIPT)
        assert (event.quantity, event.operator) == (3, "admin")
        entry = AuditLog.objects.get(action=AuditAction.PURCHASE_ITEM_UPDATE)
        assert entry.user == "admin"
        # Saving the form again unchanged adds nothing.
        item.refresh_from_db()
        admin_client.post(url, item_form(item))
        assert available(sku.sku_id) == 13
        # Abnormal takes the units back.
        admin_client.post(url, item_form(item, status="abnormal"))
        assert available(sku.sku_id) == 10

    def test_a_refused_change_is_a_message_not_an_error(self, admin_client, sku, actor):
        item = InventoryItemFactory(sku_id=sku.sku_id, quantity=3, status="arrived")
        stock_adjust(sku_id=sku.sku_id, quantity=-13, reason="sold", actor=actor)
        url = reverse("admin:purchasing_inventoryitem_change", args=[item.pk])
        response = admin_client.post(url, item_form(item, status="abnormal"), follow=True)
        assert response.status_code == 200
        assert "does not allow oversell" in response.content.decode()
        item.refresh_from_db()
        assert item.status == "arrived"
        assert available(sku.sku_id) == 0

    def test_add_an_item_through_the_service(self, admin_client, sku):
        purchase = PurchasingFactory()
        response = admin_client.post(
            reverse("admin:purchasing_inventoryitem_add"),
            {
                "purchase": purchase.pk,
                "flag": "FLAG001",
                "status": "arrived",
                "product_type": "iPhone",
                "sku": sku.sku_id,
                "quantity": 2,
            },
        )
        assert response.status_code == 302, response.content
        item = InventoryItem.objects.get(flag="FLAG001")
        assert (item.purchase, item.received_quantity) == (purchase, 2)
        assert available(sku.sku_id) == 12
        assert AuditLog.objects.filter(action=AuditAction.PURCHASE_ITEM_ADD, user="admin")

    def test_counters_are_read_only(self, admin_client, sku):
        item = InventoryItemFactory(sku_id=sku.sku_id)
        url = reverse("admin:purchasing_inventoryitem_change", args=[item.pk])
        admin_client.post(url, item_form(item, received_quantity=50, receipt_revision=9))
        item.refresh_from_db()
        assert (item.received_quantity, item.receipt_revision) == (0, 0)
        page = admin_client.get(url).content.decode()
        assert 'name="received_quantity"' not in page
        assert 'name="purchase"' not in page  # an item stays with its purchase

    def test_bulk_mark_arrived(self, admin_client, sku, other_sku):
        first = InventoryItemFactory(sku_id=sku.sku_id, quantity=2)
        second = InventoryItemFactory(sku_id=other_sku.sku_id, quantity=5)
        response = admin_client.post(
            reverse("admin:purchasing_inventoryitem_changelist"),
            {"action": "mark_arrived", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )
        assert "2 items marked arrived." in response.content.decode()
        assert (available(sku.sku_id), available(other_sku.sku_id)) == (12, 5)
        assert set(InventoryItem.objects.values_list("status", flat=True)) == {"arrived"}

    def test_items_are_never_deleted(self, admin_client):
        item = InventoryItemFactory()
        url = reverse("admin:purchasing_inventoryitem_delete", args=[item.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
        assert InventoryItem.objects.filter(pk=item.pk).exists()


class TestPurchaseAdmin:
    def test_add_and_change_through_the_service(self, admin_client):
        account = OfficialAccountFactory()
        response = admin_client.post(
            reverse("admin:purchasing_purchasing_add"),
            {
                "order_number": "ORD20250120001",
                "official_account": account.pk,
                "delivery_status": "pending_confirmation",
                "payment_method": "credit_card",
                "purchasing_inventories-TOTAL_FORMS": "0",
                "purchasing_inventories-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content
        purchase = Purchasing.objects.get(order_number="ORD20250120001")
        assert purchase.official_account == account
        assert AuditLog.objects.filter(action=AuditAction.PURCHASE_CREATE, user="admin")
        url = reverse("admin:purchasing_purchasing_change", args=[purchase.pk])
        page = admin_client.get(url).content.decode()
        for read_only in ("uuid", "is_locked", "locked_at", "locked_by_worker", "is_deleted"):
            assert f'name="{read_only}"' not in page, read_only
        assert "awaiting confirmation" in page
        response = admin_client.post(
            url,
            {
                "order_number": "ORD20250120001",
                "official_account": account.pk,
                "delivery_status": "shipped",
                "payment_method": "credit_card",
                "is_locked": "on",
                "is_deleted": "on",
                "purchasing_inventories-TOTAL_FORMS": "0",
                "purchasing_inventories-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content
        purchase.refresh_from_db()
        assert purchase.delivery_status == "shipped"
        assert (purchase.is_locked, purchase.is_deleted) == (False, False)
        entry = AuditLog.objects.get(action=AuditAction.PURCHASE_UPDATE)
        assert entry.details["changes"] == {"delivery_status": ["pending_confirmation", "shipped"]}

    def test_lists_hide_deleted_purchases_unless_asked(self, admin_client, actor):
        live = PurchasingFactory(order_number="LIVE-1")
        gone = PurchasingFactory(order_number="GONE-1")
        url = reverse("admin:purchasing_purchasing_changelist")
        admin_client.post(url, {"action": "soft_delete", "_selected_action": [gone.pk]})
        assert Purchasing.objects.get(pk=gone.pk).is_deleted
        shown = admin_client.get(url).context["cl"].result_list
        assert list(shown) == [live]
        deleted_only = admin_client.get(url, {"deleted": "deleted"}).context["cl"].result_list
        assert list(deleted_only) == [gone]
        every = admin_client.get(url, {"deleted": "all"}).context["cl"].result_list
        assert set(every) == {live, gone}
        admin_client.post(
            url + "?deleted=all", {"action": "restore", "_selected_action": [gone.pk]}
        )
        assert not Purchasing.objects.get(pk=gone.pk).is_deleted

    def test_search_and_inline_items(self, admin_client, sku):
        purchase = PurchasingFactory(order_number="ORD-FIND", tracking_number="TRACK123")
        InventoryItemFactory(purchase=purchase, sku_id=sku.sku_id, flag="FLAG-X")
        PurchasingFactory(order_number="OTHER")
        url = reverse("admin:purchasing_purchasing_changelist")
        page = admin_client.get(url, {"q": "track123"})
        assert list(page.context["cl"].result_list) == [purchase]
        assert page.context["cl"].result_list[0].item_count == 1
        detail = admin_client.get(reverse("admin:purchasing_purchasing_change", args=[purchase.pk]))
        assert "FLAG-X" in detail.content.decode()

    def test_purchases_are_never_hard_deleted(self, admin_client):
        purchase = PurchasingFactory()
        url = reverse("admin:purchasing_purchasing_delete", args=[purchase.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
        changelist = admin_client.get(reverse("admin:purchasing_purchasing_changelist"))
        assert "delete_selected" not in changelist.content.decode()

    def test_locks_show_in_the_list(self, admin_client):
        purchase = PurchasingFactory()
        purchase_claim(worker="tracker-9")
        page = admin_client.get(reverse("admin:purchasing_purchasing_changelist"))
        assert "tracker-9" in page.content.decode()
        assert Purchasing.objects.get(pk=purchase.pk).is_locked


class TestAccountAdmin:
    def test_add_and_change_are_audited(self, admin_client):
        response = admin_client.post(
            reverse("admin:purchasing_officialaccount_add"),
            {"account_id": "ACC001", "email": "user@example.com", "name": "张三"},
        )
        assert response.status_code == 302, response.content
        account = OfficialAccount.objects.get(account_id="ACC001")
        url = reverse("admin:purchasing_officialaccount_change", args=[account.pk])
        admin_client.post(url, {"account_id": "ACC001", "email": "new@example.com", "name": "张三"})
        account.refresh_from_db()
        assert account.email == "new@example.com"
        assert AuditLog.objects.filter(action=AuditAction.OFFICIAL_ACCOUNT_CHANGE).count() == 2
        assert (
            admin_client.get(reverse("admin:purchasing_officialaccount_changelist")).status_code
            == 200
        )


class TestGroups:
    @pytest.mark.parametrize(
        ("group", "view", "change_item", "add_account"),
        [
            ("viewer", True, False, False),
            ("operator", True, True, False),
            ("admin", True, True, True),
        ],
    )
    def test_what_each_group_may_do(self, client, group, view, change_item, add_account):
        user = member(client, group)
        assert user.has_perm("purchasing.view_purchasing") is view
        assert user.has_perm("purchasing.view_inventoryitem") is view
        assert user.has_perm("purchasing.change_inventoryitem") is change_item
        assert user.has_perm("purchasing.change_purchasing") is change_item
        assert user.has_perm("purchasing.add_officialaccount") is add_account
        assert not user.has_perm("purchasing.delete_purchasing")
        changelist = client.get(reverse("admin:purchasing_purchasing_changelist"))
        assert changelist.status_code == 200

    def test_viewers_cannot_mark_arrived(self, client, sku):
        member(client, "viewer")
        item = InventoryItemFactory(sku_id=sku.sku_id)
        client.post(
            reverse("admin:purchasing_inventoryitem_changelist"),
            {"action": "mark_arrived", "_selected_action": [item.pk]},
        )
        item.refresh_from_db()
        assert item.status == "in_transit"
        assert available(sku.sku_id) == 10
