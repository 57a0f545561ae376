"""Allocation rules and set components in the admin: the services' checks and messages,
audited writes."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from events.models import AuditAction, AuditLog, PendingPush
from skus.models import SkuComponent
from skus.tests.factories import SkuFactory
from stores.models import AllocationRule
from stores.tests.factories import StoreFactory, StoreSkuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_a_rule_is_added_through_the_service_and_a_bad_one_is_refused(boss):
    registration = StoreSkuFactory()
    PendingPush.objects.all().delete()
    url = reverse("admin:stores_allocationrule_add")
    refused = boss.post(
        url, {"store": registration.store_id, "kind": "buffer", "value": "3", "note": ""}
    )
    assert refused.status_code == 200
    assert "A buffer rule needs a period" in refused.content.decode()
    assert not AllocationRule.objects.exists()
    added = boss.post(url, {"store": registration.store_id, "kind": "share", "value": "70"})
    assert added.status_code == 302
    rule = AllocationRule.objects.get()
    assert (rule.kind, rule.value, rule.sku_id) == ("share", 70, None)
    assert AuditLog.objects.filter(action=AuditAction.ALLOCATION_RULE).count() == 1
    assert PendingPush.objects.filter(sku_id=registration.sku_id).exists()
    listed = boss.get(reverse("admin:stores_allocationrule_changelist")).content.decode()
    assert "every SKU of the store" in listed
    deleted = boss.post(
        reverse("admin:stores_allocationrule_delete", args=[rule.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not AllocationRule.objects.exists()
    assert AuditLog.objects.filter(action=AuditAction.ALLOCATION_RULE).count() == 2


def components_post(set_sku, rows):
    data = {
        "sku_name": set_sku.sku_name,
        "environment": set_sku.environment,
        "status": set_sku.status,
        "metadata": "{}",
        "aliases": "{}",
        "low_stock_threshold": "2",
        "components-TOTAL_FORMS": str(len(rows)),
        "components-INITIAL_FORMS": "0",
        "components-MIN_NUM_FORMS": "0",
        "components-MAX_NUM_FORMS": "1000",
        "registrations-TOTAL_FORMS": "0",
        "registrations-INITIAL_FORMS": "0",
        "registrations-MIN_NUM_FORMS": "0",
        "registrations-MAX_NUM_FORMS": "1000",
    }
    for i, (component, quantity) in enumerate(rows):
        data[f"components-{i}-component"] = component
        data[f"components-{i}-quantity"] = str(quantity)
        data[f"components-{i}-set"] = set_sku.sku_id
    return data


def test_a_set_is_defined_in_the_sku_admin_with_the_services_rules(boss):
    SkuFactory(sku_id="Cup", initial_stock=5)
    gift = SkuFactory(sku_id="Gift")
    url = reverse("admin:skus_sku_change", args=["gift"])
    page = boss.get(url).content.decode()
    assert "Components of this set" in page
    itself = boss.post(url, components_post(gift, [("gift", 1)]))
    assert itself.status_code == 200
    assert "cannot be a component of itself" in itself.content.decode()
    assert not SkuComponent.objects.exists()
    saved = boss.post(url, components_post(gift, [("cup", 2)]))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert list(SkuComponent.objects.values_list("set_id", "component_id", "quantity")) == [
        ("gift", "cup", 2)
    ]
    gift.refresh_from_db()
    assert gift.low_stock_threshold == 2
    assert AuditLog.objects.filter(action=AuditAction.SET_DEFINE).count() == 1


def test_a_sku_with_stock_events_cannot_become_a_set_in_the_admin(boss):
    SkuFactory(sku_id="Cup", initial_stock=5)
    mug = SkuFactory(sku_id="Mug", initial_stock=1)
    refused = boss.post(
        reverse("admin:skus_sku_change", args=["mug"]), components_post(mug, [("cup", 1)])
    )
    assert "stock events of its own" in refused.content.decode()
    assert not SkuComponent.objects.exists()


def test_the_store_list_of_rules_filters_by_store():
    store = StoreFactory()
    assert AllocationRule.objects.filter(store=store).count() == 0


def test_the_store_page_lists_its_rules_and_the_dashboard_its_low_stock(boss):
    import datetime as dt

    from django.utils import timezone

    from events.actors import Actor
    from stores.services import allocation_rule_save

    registration = StoreSkuFactory()
    store = registration.store
    SkuFactory(sku_id="Teapot", sku_name="Teapot", initial_stock=1, low_stock_threshold=2)
    allocation_rule_save(actor=Actor.cli("t"), store_id=store.store_id, kind="share", value=60)
    allocation_rule_save(
        actor=Actor.cli("t"),
        store_id=store.store_id,
        sku_id=registration.sku_id,
        kind="cap",
        value=4,
        ends_at=timezone.now() + dt.timedelta(days=1),
        note="launch week",
    )
    page = boss.get(reverse("sync:store", args=[store.store_id])).content.decode()
    rules = page[page.index('id="allocation-rules"') :].split("</table>")[0]
    assert "every SKU of the store" in rules
    assert "share of available (%)" in rules
    assert "launch week" in rules
    assert "admin/stores/allocationrule/add/" in page
    dashboard = boss.get(reverse("sync:dashboard")).content.decode()
    low = dashboard[dashboard.index('id="low-stock"') :].split("</section>")[0]
    assert ">Teapot</a></td><td>Teapot</td><td>1</td><td>2</td>" in low
