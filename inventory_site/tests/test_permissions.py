"""Who may see and do what: every staff page and action for each group, in our pages and
in the admin. Denied writes change nothing."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from events.models import AuditLog, InventoryEvent, PendingPush
from imports.models import UploadedFile
from inventory_site.permissions import groups_ensure
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory
from sync.models import SyncRun

pytestmark = pytest.mark.django_db

GROUPS = ["viewer", "operator", "admin"]


@pytest.fixture
def world(settings):
    settings.INVENTORY_TEST_MODE = True
    groups_ensure()
    store = StoreFactory(store_id="shop-1")
    sku = SkuFactory(sku_id="Cup-1", initial_stock=5)
    run = SyncRun.objects.create(store=store, kind="sku_sync", details={"total": 4})
    push = PendingPush.objects.create(store=store, sku=sku, status="failed", attempts=8)
    return {"store": store, "sku": sku, "run": run, "push": push}


def login(client, group):
    user = User.objects.create_user(f"{group}-1", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def pages(world):
    return {
        "dashboard": reverse("sync:dashboard"),
        "stores": reverse("sync:stores"),
        "store": reverse("sync:store", args=["shop-1"]),
        "run progress": reverse("sync:run_progress", args=[world["run"].pk]),
        "SKU list": reverse("skus:list"),
        "SKU detail": reverse("skus:detail", args=["cup-1"]),
        "audit log": reverse("reports:audit"),
        "oversells": reverse("reports:oversell"),
        "reconciliation": reverse("reports:reconcile"),
        "failed syncs": reverse("reports:failed"),
        "import": reverse("imports:upload"),
        "export": reverse("imports:export"),
        "test reset": reverse("reports:test_reset"),
        "admin: stores": reverse("admin:stores_store_changelist"),
        "admin: events": reverse("admin:events_inventoryevent_changelist"),
        "admin: add store": reverse("admin:stores_store_add"),
        "admin: change store": reverse("admin:stores_store_change", args=["shop-1"]),
        "admin: add SKU": reverse("admin:skus_sku_add"),
        "admin: futureshop bindings": reverse("admin:futureshop_futureshopbinding_changelist"),
    }


# Pages each group may open (every other one answers 403).
ALLOWED = {
    "viewer": {
        "dashboard",
        "stores",
        "store",
        "run progress",
        "SKU list",
        "SKU detail",
        "audit log",
        "oversells",
        "reconciliation",
        "failed syncs",
        "export",
        "admin: stores",
        "admin: events",
        "admin: change store",  # read-only for viewers, see below
        "admin: futureshop bindings",
    },
}
ALLOWED["operator"] = ALLOWED["viewer"] | {"import"}
ALLOWED["admin"] = ALLOWED["operator"] | {"test reset", "admin: add store", "admin: add SKU"}


def test_anonymous_users_are_sent_to_log_in(client, world):
    for name, url in pages(world).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith("/admin/login/"), name


def test_staff_without_a_group_see_nothing(client, world):
    client.force_login(User.objects.create_user("lonely", password="pw", is_staff=True))
    for name, url in pages(world).items():
        if name.startswith("admin:"):
            assert client.get(url).status_code in (403, 302), name
        else:
            assert client.get(url).status_code == 403, name


def test_non_staff_users_are_sent_to_log_in(client, world):
    user = User.objects.create_user("customer", password="pw")
    user.groups.add(Group.objects.get(name="admin"))
    client.force_login(user)
    for name, url in pages(world).items():
        assert client.get(url).status_code == 302, name


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_opens_exactly_its_pages(client, world, group):
    login(client, group)
    for name, url in pages(world).items():
        expected = 200 if name in ALLOWED[group] else 403
        assert client.get(url).status_code == expected, f"{group} {name}"


@pytest.mark.parametrize("group", GROUPS)
def test_only_admins_change_stores_in_the_admin(client, world, group):
    login(client, group)
    page = client.get(reverse("admin:stores_store_change", args=["shop-1"])).content.decode()
    can_change = group == "admin"
    assert ('name="_save"' in page) == can_change
    response = client.post(
        reverse("admin:stores_store_change", args=["shop-1"]),
        {
            "store_name": "Renamed",
            "platform_type": "rakuten",
            "status": "active",
            "api_config": "{}",
            "safety_stock": "0",
        },
    )
    world["store"].refresh_from_db()
    assert (world["store"].store_name == "Renamed") == can_change
    assert response.status_code == (302 if can_change else 403)


def actions(world):
    """Each write, with what it would leave behind if it were allowed."""
    return {
        "auth test": (reverse("sync:auth_test", args=["shop-1"]), {}),
        "poll": (reverse("sync:poll", args=["shop-1"]), {}),
        "SKU sync": (reverse("sync:sku_sync", args=["shop-1"]), {}),
        "push all": (reverse("sync:push_all", args=["shop-1"]), {}),
        "cancel run": (reverse("sync:run_cancel", args=[world["run"].pk]), {}),
        "adjust": (reverse("skus:detail", args=["cup-1"]), {"quantity": "2", "reason": "x"}),
        "retry": (reverse("reports:failed_retry"), {"push": world["push"].pk}),
        "upload": (reverse("imports:upload"), {"store": "shop-1"}),
        "test reset": (reverse("reports:test_reset"), {"confirm": "reset"}),
    }


def test_viewers_may_do_nothing_and_nothing_changes(client, world):
    login(client, "viewer")
    before = (
        InventoryEvent.objects.count(),
        SyncRun.objects.count(),
        AuditLog.objects.exclude(action="login").count(),
        UploadedFile.objects.count(),
    )
    for name, (url, data) in actions(world).items():
        assert client.post(url, data).status_code == 403, name
    after = (
        InventoryEvent.objects.count(),
        SyncRun.objects.count(),
        AuditLog.objects.exclude(action="login").count(),
        UploadedFile.objects.count(),
    )
    assert after == before
    world["push"].refresh_from_db()
    world["run"].refresh_from_db()
    assert (world["push"].status, world["run"].cancel_requested) == ("failed", False)


def test_operators_run_the_business_but_not_the_test_reset(client, world):
    login(client, "operator")
    url, data = actions(world)["test reset"]
    assert client.post(url, data).status_code == 403
    assert not InventoryEvent.objects.filter(event_type="TEST_RESET").exists()
    url, data = actions(world)["adjust"]
    assert client.post(url, data).status_code == 302
    assert InventoryEvent.objects.filter(sku_id="cup-1", event_type="MANUAL_ADJUSTMENT").exists()
    url, data = actions(world)["retry"]
    assert client.post(url, data).status_code == 302
    world["push"].refresh_from_db()
    assert world["push"].status == "pending"


def test_every_form_carries_a_csrf_token(client, world):
    login(client, "admin")
    for name in ("store", "SKU detail", "failed syncs", "import", "test reset"):
        page = client.get(pages(world)[name]).content.decode()
        forms = page.count('method="post"')
        assert forms, name
        assert page.count('name="csrfmiddlewaretoken"') >= forms, name


def test_posts_without_the_csrf_token_are_refused(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login(client, "admin")
    url, data = actions(world)["adjust"]
    assert client.post(url, data).status_code == 403
    assert not InventoryEvent.objects.filter(event_type="MANUAL_ADJUSTMENT").exists()


def test_names_from_a_platform_or_a_file_show_as_text(client, world):
    from sync.models import Order

    login(client, "viewer")
    hostile = "<script>alert('x')</script>"
    SkuFactory(sku_id="Evil-1", sku_name=hostile, initial_stock=1)
    world["push"].last_error = hostile
    world["push"].save()
    from rakuten.models import RakutenOrderConfirmation

    RakutenOrderConfirmation.objects.create(
        order=Order.objects.create(store=world["store"], order_number="1-2", platform_status="100"),
        store=world["store"],
        status="failed",
        error=hostile,
    )
    for url in (
        reverse("skus:list"),
        reverse("skus:detail", args=["evil-1"]),
        reverse("reports:failed"),
    ):
        page = client.get(url).content.decode()
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page, url
        assert hostile not in page, url
