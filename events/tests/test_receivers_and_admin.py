import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from events.models import AuditAction, AuditLog, InventoryEvent
from events.services import stock_adjust
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreSkuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return User.objects.create_user("bob", password="pw-123456", is_staff=True, is_superuser=True)


def test_login_is_audited_with_the_client_ip(client, staff):
    response = client.post(
        reverse("admin:login"),
        {"username": "bob", "password": "pw-123456"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action=AuditAction.LOGIN)
    assert (entry.user, entry.ip) == ("bob", "198.51.100.7")


def test_failed_login_is_audited_without_the_password(client, staff):
    client.post(reverse("admin:login"), {"username": "bob", "password": "wrong-guess-42"})
    entry = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.user == "bob"
    assert "wrong-guess-42" not in str(entry.details)


def test_ledger_admin_is_read_only(admin_client, actor):
    event = stock_adjust(
        sku_id=SkuFactory(initial_stock=2).sku_id, quantity=1, reason="x", actor=actor
    )
    url = reverse("admin:events_inventoryevent_change", args=[event.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view only
    admin_client.post(url, {"quantity": 99})
    assert InventoryEvent.objects.get(pk=event.pk).quantity == 1
    delete = admin_client.post(
        reverse("admin:events_inventoryevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert InventoryEvent.objects.filter(pk=event.pk).exists()
    assert admin_client.get(reverse("admin:events_inventoryevent_add")).status_code == 403


def test_ledger_lists_filter_and_search(admin_client, actor):
    sku = SkuFactory(sku_id="Findme-1", initial_stock=2)
    stock_adjust(sku_id=sku.sku_id, quantity=1, reason="x", actor=actor)
    SkuFactory(sku_id="other-2", initial_stock=2)
    page = admin_client.get(reverse("admin:events_inventoryevent_changelist"), {"q": "findme"})
    assert page.context["cl"].result_count == 2
    assert {e.sku_id for e in page.context["cl"].result_list} == {"findme-1"}
    audit = admin_client.get(
        reverse("admin:events_auditlog_changelist"), {"action__exact": "stock.adjust"}
    )
    assert [e.user for e in audit.context["cl"].result_list] == ["alice"]
    StoreSkuFactory(sku=sku)
    for name in ("inventorysnapshot", "pendingpush"):
        listing = admin_client.get(reverse(f"admin:events_{name}_changelist"), {"q": "findme"})
        assert [row.sku_id for row in listing.context["cl"].result_list] == ["findme-1"]
