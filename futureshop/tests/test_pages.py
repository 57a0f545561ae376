"""futureshop stores in the staff pages and the admin, beside a Rakuten one: the platform
shown, the registrations with futureshop's own keys, credentials of the chosen platform
only, errors readable."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from events.actors import Actor
from events.models import PendingPush
from futureshop.models import FutureshopBinding
from inventory_site.permissions import groups_ensure
from skus.services import sku_create
from stores.models import Store
from stores.services import store_create
from sync.registrations import store_sku_register

pytestmark = pytest.mark.django_db

FS_CREDENTIALS = {
    "api_domain": "api.example-shop.future-shop.jp",
    "shop_key": "shopkey-123456",
    "client_id": "client-abcdef",
    "client_secret": "very-secret-client-value",
}


@pytest.fixture
def stores(settings) -> dict[str, Store]:
    actor = Actor.cli("test")
    sku_create(sku_id="Tshirt-RED-M", sku_name="T-shirt red M", initial_stock=25, actor=actor)
    futureshop = store_create(
        store_id="fs-1",
        store_name="Our futureshop",
        platform_type=Store.Platform.FUTURESHOP,
        api_config={"base_url": "https://api.example-shop.future-shop.jp"},
        credentials=FS_CREDENTIALS,
        actor=actor,
    )
    rakuten = store_create(
        store_id="rms-1",
        store_name="Our Rakuten shop",
        credentials={"service_secret": "SP1_secret", "license_key": "SL1_key"},
        actor=actor,
    )
    store_sku_register(
        store_id="fs-1",
        sku_id="Tshirt-RED-M",
        product_no="Tshirt",
        sku_no="Tshirt-RED-M",
        horizontal_no="01",
        actor=actor,
    )
    return {"futureshop": futureshop, "rakuten": rakuten}


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("boss", password="pw")
    client.force_login(user)
    return client


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each row's cells of one table (header row included)."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_the_store_page_lists_registrations_by_futureshops_keys(admin_client, stores):
    html = admin_client.get(reverse("sync:store", args=["fs-1"])).content.decode()
    header, row = cells(html, "registrations")
    assert header == [
        "SKU",
        "Name",
        "Product number",
        "SKU number",
        "Branch number (vertical)",
        "Branch number (horizontal)",
        "Last pushed",
    ]
    assert row[:6] == ["Tshirt-RED-M", "T-shirt red M", "Tshirt", "Tshirt-RED-M", "–", "01"]
    assert "Platform: <strong>futureshop</strong>" in html
    # The secret is never on the page: only its masked form.
    assert FS_CREDENTIALS["client_secret"] not in html


def test_the_store_page_of_a_rakuten_store_keeps_rms_keys(admin_client, stores):
    store_sku_register(
        store_id="rms-1",
        sku_id="Tshirt-RED-M",
        manage_number="tshirt-red",
        variant_id="Tshirt-RED-M",
        actor=Actor.cli("test"),
    )
    html = admin_client.get(reverse("sync:store", args=["rms-1"])).content.decode()
    header, row = cells(html, "registrations")
    assert header[2:4] == ["Item manage number", "Variant id"]
    assert row[2:4] == ["tshirt-red", "Tshirt-RED-M"]


def row_text(html: str, row_id: str) -> str:
    """The text of one table row (tags dropped, spaces collapsed)."""
    row = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_the_dashboard_shows_each_stores_platform_and_credential_state(admin_client, stores):
    Store.objects.filter(pk="fs-1").update(
        last_auth_test_at=timezone.now(), last_auth_error="futureshop refused the client id"
    )
    html = admin_client.get(reverse("sync:dashboard")).content.decode()
    futureshop, rakuten = row_text(html, "health-fs-1"), row_text(html, "health-rms-1")
    assert futureshop.startswith("Our futureshop (fs-1) futureshop")
    assert rakuten.startswith("Our Rakuten shop (rms-1) Rakuten Ichiba")
    assert "refused:" in futureshop
    assert rakuten.endswith("not tested")


def test_the_failed_list_shows_the_platform_of_each_failed_push(admin_client, stores):
    PendingPush.objects.update_or_create(
        store_id="fs-1",
        sku_id="tshirt-red-m",
        defaults={"status": "failed", "attempts": 8, "last_error": "OverStock: count too large"},
    )
    html = admin_client.get(reverse("reports:failed")).content.decode()
    push = PendingPush.objects.get(store_id="fs-1")
    text = row_text(html, f"failed-push-{push.pk}")
    assert text.startswith("fs-1 futureshop Tshirt-RED-M 8 ")
    assert "OverStock: count too large" in text  # the platform's answer stays visible


def test_the_add_form_has_one_credentials_fieldset_per_platform(admin_client, stores):
    html = admin_client.get(reverse("admin:stores_store_add")).content.decode()
    fieldsets = re.findall(r'<fieldset class="([^"]*platform-credentials[^"]*)"', html)
    assert [re.search(r"platform-(\w+)$", c.strip()).group(1) for c in fieldsets] == [
        "rakuten",
        "futureshop",
        "ebay",
    ]
    assert "sync/platform_fields.js" in html
    assert 'name="ebay__client_secret"' in html
    assert 'name="futureshop__client_secret"' in html
    assert 'name="rakuten__service_secret"' in html


def test_adding_a_futureshop_store_saves_its_credentials_only(admin_client, stores):
    response = admin_client.post(
        reverse("admin:stores_store_add"),
        {
            "store_id": "fs-2",
            "store_name": "Second futureshop",
            "platform_type": "futureshop",
            "status": "active",
            "safety_stock": "0",
            "api_config": "{}",
            "futureshop__api_domain": "api.second.future-shop.jp",
            "futureshop__shop_key": "key-2",
            "futureshop__client_id": "id-2",
            "futureshop__client_secret": "secret-2-value",
            "rakuten__service_secret": "SP-typed-by-mistake",
        },
    )
    assert response.status_code == 302, response.context_data["adminform"].form.errors
    store = Store.objects.get(pk="fs-2")
    assert store.platform_type == "futureshop"
    assert store.credentials() == {
        "api_domain": "api.second.future-shop.jp",
        "shop_key": "key-2",
        "client_id": "id-2",
        "client_secret": "secret-2-value",
    }


def test_a_futureshop_stores_change_form_shows_its_own_credentials_only(admin_client, stores):
    html = admin_client.get(reverse("admin:stores_store_change", args=["fs-1"])).content.decode()
    assert 'name="futureshop__client_secret"' in html
    assert 'name="rakuten__service_secret"' not in html
    assert FS_CREDENTIALS["client_secret"] not in html
    assert FS_CREDENTIALS["shop_key"] not in html


def test_viewers_read_the_futureshop_bindings_in_the_admin(client, stores):
    groups_ensure()
    user = User.objects.create_user("vera", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)
    html = client.get(reverse("admin:futureshop_futureshopbinding_changelist")).content.decode()
    assert "Tshirt-RED-M" in html
    assert FutureshopBinding.objects.get().horizontal_no == "01"
    assert "Add futureshop SKU" not in html


@pytest.mark.parametrize(
    "domain", ["https://api.shop.future-shop.jp", "api.shop.jp/admin", "me@evil.example", "x"]
)
def test_an_api_domain_that_is_not_a_host_name_is_refused_by_the_form(admin_client, stores, domain):
    response = admin_client.post(
        reverse("admin:stores_store_change", args=["fs-1"]),
        {
            "store_name": "Our futureshop",
            "status": "active",
            "safety_stock": "0",
            "reconcile_repairs": "on",
            "api_config": "{}",
            "futureshop__api_domain": domain,
        },
    )
    assert response.status_code == 200
    errors = response.context_data["adminform"].form.errors
    assert "host name only" in errors["futureshop__api_domain"][0]
    assert Store.objects.get(pk="fs-1").credentials()["api_domain"] == FS_CREDENTIALS["api_domain"]


def test_the_client_never_builds_an_address_from_a_bad_api_domain():
    from futureshop.client import FutureshopClient
    from futureshop.errors import FutureshopRequestInvalid

    with pytest.raises(FutureshopRequestInvalid, match="host name only"):
        FutureshopClient(
            api_domain="evil.example/steal?x=", shop_key="k", client_id="i", client_secret="s"
        )
    client = FutureshopClient(
        api_domain="api.shop.future-shop.jp", shop_key="k", client_id="i", client_secret="s"
    )
    assert client.base_url == "https://api.shop.future-shop.jp"
