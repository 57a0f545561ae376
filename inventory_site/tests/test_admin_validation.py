"""The admin refuses what the services refuse, with their messages, and cuts nothing; its run
logs are in local time."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from events.actors import Actor
from futureshop.adapter import MSG_TOO_LONG
from futureshop.types import PRODUCT_NO_MAX_BYTES
from rakuten.adapter import MSG_ID_TOO_LONG
from rakuten.types import ID_MAX_BYTES
from skus.models import MSG_SKU_ID_TOO_LONG, SKU_ID_MAX_LENGTH, Sku
from skus.services import MSG_SKU_EXISTS
from skus.tests.factories import SkuFactory
from stores.models import Store, StoreSku
from stores.services import store_create
from stores.tests.factories import StoreFactory
from sync.models import RunEvent, SyncRun

pytestmark = pytest.mark.django_db

SKU_FORM = {
    "sku_name": "Mug",
    "environment": "prod",
    "status": "active",
    "metadata": "{}",
    "aliases": "{}",
    "components-TOTAL_FORMS": "0",
    "components-INITIAL_FORMS": "0",
    "registrations-TOTAL_FORMS": "0",
    "registrations-INITIAL_FORMS": "0",
}


def errors_of(page: str, field: str) -> list[str]:
    """The messages shown under a field of an admin form."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return (
        [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1))] if match else []
    )


def input_of(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


class TestSkuAdmin:
    def test_a_long_id_is_refused_with_the_services_message_not_cut(self, admin_client):
        long_id = "A" * 80
        response = admin_client.post(reverse("admin:skus_sku_add"), {**SKU_FORM, "sku_id": long_id})
        page = response.content.decode()
        assert response.status_code == 200
        expected = MSG_SKU_ID_TOO_LONG % {"sku_id": long_id[:60], "limit": SKU_ID_MAX_LENGTH}
        assert errors_of(page, "sku_id") == [expected]
        assert not Sku.objects.filter(sku_id__startswith="aaaa").exists()
        # A browser cuts what a maxlength input holds: the field has none.
        assert "maxlength" not in input_of(page, "sku_id")

    def test_an_id_the_service_takes_keeps_its_case(self, admin_client):
        response = admin_client.post(
            reverse("admin:skus_sku_add"), {**SKU_FORM, "sku_id": " Mug-RED "}
        )
        assert response.status_code == 302
        sku = Sku.objects.get(pk="mug-red")
        assert (sku.original_sku, sku.sku_name) == ("Mug-RED", "Mug")

    def test_an_existing_id_is_refused_with_the_services_message(self, admin_client):
        SkuFactory(sku_id="Mug-1")
        response = admin_client.post(reverse("admin:skus_sku_add"), {**SKU_FORM, "sku_id": "MUG-1"})
        assert errors_of(response.content.decode(), "sku_id") == [
            MSG_SKU_EXISTS % {"sku_id": "mug-1"}
        ]


class TestRegistrationAdmin:
    def post(self, client, store: Store, sku: Sku, **keys: str):
        return client.post(
            reverse("admin:stores_storesku_add"),
            {"store": store.store_id, "sku": sku.sku_id, "safety_stock": "", **keys},
        )

    def test_a_variant_id_longer_than_rms_takes_is_refused_under_it(self, admin_client):
        store, sku = StoreFactory(), SkuFactory()
        variant = "V" * (ID_MAX_BYTES + 1)
        response = self.post(
            admin_client, store, sku, rakuten__manage_number="m1", rakuten__variant_id=variant
        )
        page = response.content.decode()
        assert response.status_code == 200
        expected = MSG_ID_TOO_LONG % {"field": "variantId", "value": variant, "limit": ID_MAX_BYTES}
        assert errors_of(page, "rakuten__variant_id") == [expected]
        assert not StoreSku.objects.filter(store=store).exists()
        # No input cuts an id: the platform's limit is in bytes, the binder checks it.
        assert "maxlength" not in input_of(page, "rakuten__variant_id")
        # Each platform's keys are labelled with the platform's name, not its code.
        assert "(Rakuten Ichiba)" in page or "(楽天市場)" in page
        assert "(rakuten)" not in page

    def test_a_32_byte_variant_id_is_taken(self, admin_client):
        store, sku = StoreFactory(), SkuFactory()
        variant = "V" * ID_MAX_BYTES
        response = self.post(
            admin_client, store, sku, rakuten__manage_number="m1", rakuten__variant_id=variant
        )
        assert response.status_code == 302
        registration = StoreSku.objects.get(store=store, sku=sku)
        assert registration.rakuten.variant_id == variant
        # Its page shows its own platform's keys, with their values, and no other platform's.
        page = admin_client.get(reverse("admin:stores_storesku_change", args=[registration.pk]))
        text = page.content.decode()
        assert f'value="{variant}"' in input_of(text, "rakuten__variant_id")
        assert 'name="futureshop__product_no"' not in text
        assert 'name="ebay__ebay_sku"' not in text

    def test_a_futureshop_key_too_long_is_refused_with_futureshops_message(self, admin_client):
        store = store_create(
            store_id="fs-1",
            store_name="Our futureshop",
            platform_type=Store.Platform.FUTURESHOP,
            api_config={"base_url": "https://api.example-shop.future-shop.jp"},
            credentials={
                "api_domain": "api.example-shop.future-shop.jp",
                "shop_key": "shopkey-123456",
                "client_id": "client-abcdef",
                "client_secret": "very-secret-client-value",
            },
            actor=Actor.cli("test"),
        )
        product = "商品" * 6  # 12 characters, 36 bytes
        response = self.post(admin_client, store, SkuFactory(), futureshop__product_no=product)
        expected = MSG_TOO_LONG % {
            "field": "product number",
            "value": product,
            "limit": PRODUCT_NO_MAX_BYTES,
        }
        assert errors_of(response.content.decode(), "futureshop__product_no") == [expected]
        assert not StoreSku.objects.filter(store=store).exists()


class TestRunAdmin:
    def test_the_log_is_in_local_time_like_the_run_page(self, admin_client, settings):
        settings.TIME_ZONE = "Asia/Tokyo"
        store = StoreFactory()
        run = SyncRun.objects.create(
            store=store,
            kind="push",
            status="succeeded",
            counts={"pushed": 2},
            log="00:00:05 stored text, in UTC",
        )
        at = dt.datetime(2026, 1, 5, 0, 0, 5, tzinfo=dt.UTC)
        RunEvent.objects.create(run=run, seq=1, at=at, message="2 SKUs pushed")
        RunEvent.objects.create(run=run, seq=2, at=at, level="error", message="<b>refused</b>")
        page = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
        text = page.content.decode()
        assert '<span class="info">09:00:05 2 SKUs pushed</span>' in text
        assert '<span class="error">09:00:05 &lt;b&gt;refused&lt;/b&gt;</span>' in text
        assert "stored text, in UTC" not in text
        assert reverse("sync:run", args=[run.pk]) in text
        assert run.counts_text in text

    def test_a_run_older_than_the_live_log_shows_its_text(self, admin_client):
        run = SyncRun.objects.create(store=StoreFactory(), kind="poll", log="line one\nline two")
        page = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content
        assert b'<pre class="run-log">line one\nline two</pre>' in page

    def test_times_of_the_list_are_local(self, admin_client, settings):
        settings.TIME_ZONE = "Asia/Tokyo"
        SyncRun.objects.create(
            store=StoreFactory(),
            kind="poll",
            started_at=dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC),
        )
        page = admin_client.get(reverse("admin:sync_syncrun_changelist")).content.decode()
        assert "Jan. 6, 2026, 8:30 a.m." in page

    def test_asking_one_run_to_stop_says_so_in_the_singular(self, admin_client):
        run = SyncRun.objects.create(store=StoreFactory(), kind="sku_sync")
        response = admin_client.post(
            reverse("admin:sync_syncrun_changelist"),
            {"action": "cancel", "_selected_action": [run.pk]},
            follow=True,
        )
        assert "1 run will stop after its current page." in response.content.decode()
