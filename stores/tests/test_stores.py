import json
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from events.models import AuditAction, AuditLog, PendingPush
from skus.tests.factories import SkuFactory
from stores.crypto import CredentialDecryptError, decrypt_secret, encrypt_secret, mask_secret
from stores.models import Store, StoreSku
from stores.services import (
    StoreInvalid,
    store_create,
    store_credentials_set,
    store_update,
)
from stores.tests.factories import StoreFactory, StoreSkuFactory
from sync.registrations import RegistrationInvalid, store_sku_register

pytestmark = pytest.mark.django_db

SECRET = "SP416502_ub7B0vRTK9VuHjsL"
LICENCE = "SL416502_YuXi3naks7oilYtI"


def raw_row(store_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted FROM stores WHERE store_id = %s",
            [store_id],
        )
        return cursor.fetchone()


def everything_audited():
    return json.dumps(list(AuditLog.objects.values("user", "action", "details")))


class TestCredentials:
    def test_encrypted_at_rest_readable_with_the_key_and_masked(self, actor):
        store = store_create(
            store_id="tokyo",
            store_name="Tokyo",
            credentials={"service_secret": SECRET, "license_key": LICENCE},
            actor=actor,
        )
        (cipher,) = raw_row("tokyo")
        assert SECRET not in cipher
        assert LICENCE not in cipher
        store.refresh_from_db()
        assert store.credentials() == {"service_secret": SECRET, "license_key": LICENCE}
        assert store.credentials_masked == {
            "service_secret": "••••HjsL",
            "license_key": "••••lYtI",
        }
        assert SECRET not in everything_audited()
        assert LICENCE not in everything_audited()
        assert AuditLog.objects.get(action=AuditAction.STORE_CREATE).details["credentials_set"]

    def test_mask_shows_nothing_of_a_short_secret(self):
        assert mask_secret("short") == "••••"
        assert mask_secret("") == ""

    def test_a_wrong_key_raises_instead_of_returning_ciphertext(self, settings):
        token = encrypt_secret(SECRET)
        settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        with pytest.raises(CredentialDecryptError, match="cannot be decrypted"):
            decrypt_secret(token)

    def test_change_is_audited_by_name_only(self, actor):
        StoreFactory(store_id="osaka")
        store_credentials_set(
            store_id="osaka", credentials={"license_key": "SL-new-licence-0001"}, actor=actor
        )
        store = Store.objects.get(pk="osaka")
        assert store.credential("license_key") == "SL-new-licence-0001"
        assert store.credential("service_secret").startswith("SP")  # kept
        entry = AuditLog.objects.get(action=AuditAction.STORE_CREDENTIALS)
        assert entry.details == {"store_id": "osaka", "changed": ["license_key"]}
        assert "SL-new-licence-0001" not in everything_audited()

    def test_blank_change_keeps_the_credentials(self, actor):
        store = StoreFactory()
        before = raw_row(store.store_id)
        store_credentials_set(
            store_id=store.store_id, credentials={"service_secret": " "}, actor=actor
        )
        assert raw_row(store.store_id) == before
        assert not AuditLog.objects.filter(action=AuditAction.STORE_CREDENTIALS).exists()

    def test_key_rotation(self, settings, capsys):
        store = StoreFactory(credentials={"service_secret": SECRET, "license_key": LICENCE})
        old_key = settings.FIELD_ENCRYPTION_KEYS[0]
        new_key = Fernet.generate_key().decode()
        settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
        call_command("rotate_credentials_key")
        assert "1 store(s)" in capsys.readouterr().out
        settings.FIELD_ENCRYPTION_KEYS = [new_key]
        assert Store.objects.get(pk=store.pk).credential("service_secret") == SECRET

    def test_rotation_with_a_missing_key_changes_nothing(self, settings):
        store = StoreFactory()
        before = raw_row(store.store_id)
        settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        with pytest.raises(CommandError, match="cannot be decrypted"):
            call_command("rotate_credentials_key")
        assert raw_row(store.store_id) == before

    def test_credentials_are_refused_in_api_config(self, actor):
        with pytest.raises(StoreInvalid, match="must not hold credentials \\(licenseKey\\)"):
            store_create(
                store_id="leaky", store_name="x", api_config={"licenseKey": LICENCE}, actor=actor
            )
        assert not Store.objects.filter(pk="leaky").exists()
        assert LICENCE not in everything_audited()


def test_dev_secrets_are_refused_in_production():
    env = {"PATH": "", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", "import inventory_site.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Set FIELD_ENCRYPTION_KEYS" in result.stderr


class TestStores:
    def test_update_is_audited(self, actor):
        StoreFactory(store_id="kyoto", store_name="Old")
        store_update(store_id="kyoto", store_name="New", safety_stock=2, actor=actor)
        store = Store.objects.get(pk="kyoto")
        assert (store.store_name, store.safety_stock) == ("New", 2)
        entry = AuditLog.objects.get(action=AuditAction.STORE_UPDATE)
        assert entry.details["changes"]["store_name"] == ["Old", "New"]

    def test_bad_store_input(self, actor):
        StoreFactory(store_id="dup")
        with pytest.raises(StoreInvalid, match="already exists"):
            store_create(store_id="dup", store_name="x", actor=actor)
        with pytest.raises(StoreInvalid, match="platform"):
            store_create(store_id="y", store_name="x", platform_type="amazon", actor=actor)
        with pytest.raises(StoreInvalid, match="Unknown store"):
            store_update(store_id="ghost", store_name="x", actor=actor)
        with pytest.raises(StoreInvalid, match="cannot be changed here: credentials_encrypted"):
            store_update(store_id="dup", credentials_encrypted="x", actor=actor)
        with pytest.raises(StoreInvalid, match="JSON object"):
            store_update(store_id="dup", api_config=["x"], actor=actor)

    def test_base_url_defaults_to_rms(self):
        assert StoreFactory(api_config={}).base_url == "https://api.rms.rakuten.co.jp"
        assert StoreFactory(api_config={"base_url": "http://127.0.0.1:8765/"}).base_url == (
            "http://127.0.0.1:8765"
        )


class TestRegistration:
    def test_register_keeps_platform_ids_and_makes_a_push_due(self, actor):
        store, sku = StoreFactory(), SkuFactory(sku_id="Tshirt-RED-M", initial_stock=3)
        registration = store_sku_register(
            store_id=store.store_id,
            sku_id="TSHIRT-red-m",
            manage_number="tshirt",
            variant_id="Tshirt-RED-M",
            merchant_sku_id="Tshirt-RED-M",
            actor=actor,
        )
        assert (registration.sku_id, registration.rakuten.variant_id) == (
            "tshirt-red-m",
            "Tshirt-RED-M",
        )
        assert PendingPush.objects.filter(store=store, sku=sku).count() == 1
        assert AuditLog.objects.get(action=AuditAction.SKU_REGISTER).details["created"] is True

    def test_one_variant_maps_to_one_sku_per_store(self, actor):
        first = StoreSkuFactory(manage_number="item", variant_id="V1")
        other = SkuFactory()
        with pytest.raises(RegistrationInvalid, match="already registered to SKU"):
            store_sku_register(
                store_id=first.store_id,
                sku_id=other.sku_id,
                manage_number="item",
                variant_id="V1",
                actor=actor,
            )
        assert not StoreSku.objects.filter(sku=other).exists()

    def test_safety_stock_falls_back_to_the_store(self):
        registration = StoreSkuFactory(store=StoreFactory(safety_stock=3))
        assert registration.effective_safety_stock == 3
        registration.safety_stock = 1
        assert registration.effective_safety_stock == 1

    def test_unknown_store_or_sku(self, actor):
        store = StoreFactory()
        with pytest.raises(RegistrationInvalid, match="Unknown store"):
            store_sku_register(store_id="ghost", sku_id="ce1111", actor=actor)
        with pytest.raises(RegistrationInvalid, match="Unknown SKU"):
            store_sku_register(store_id=store.store_id, sku_id="ghost", actor=actor)


class TestAdmin:
    def test_change_page_never_shows_the_secrets(self, admin_client):
        StoreFactory(
            store_id="shown", credentials={"service_secret": SECRET, "license_key": LICENCE}
        )
        page = admin_client.get(reverse("admin:stores_store_change", args=["shown"]))
        html = page.content.decode()
        assert SECRET not in html
        assert LICENCE not in html
        assert "••••HjsL" in html
        assert 'type="password"' in html
        encrypted = raw_row("shown")[0]
        assert encrypted not in html

    def test_add_and_change_through_the_admin(self, admin_client):
        response = admin_client.post(
            reverse("admin:stores_store_add"),
            {
                "store_id": "web",
                "store_name": "Web shop",
                "platform_type": "rakuten",
                "status": "active",
                "safety_stock": "1",
                "api_config": '{"shop_url": "web.rakuten.co.jp"}',
                "rakuten__service_secret": SECRET,
                "rakuten__license_key": LICENCE,
            },
        )
        assert response.status_code == 302
        store = Store.objects.get(pk="web")
        assert store.credential("service_secret") == SECRET
        response = admin_client.post(
            reverse("admin:stores_store_change", args=["web"]),
            {
                "store_name": "Web shop 2",
                "status": "active",
                "safety_stock": "1",
                "api_config": '{"shop_url": "web.rakuten.co.jp"}',
                "rakuten__service_secret": "",
                "rakuten__license_key": "SL-rotated-licence-9",
            },
        )
        assert response.status_code == 302
        store.refresh_from_db()
        assert (store.store_name, store.credential("service_secret")) == ("Web shop 2", SECRET)
        assert store.credential("license_key") == "SL-rotated-licence-9"
        assert SECRET not in everything_audited()
        assert {e.action for e in AuditLog.objects.all()} >= {
            AuditAction.STORE_CREATE,
            AuditAction.STORE_UPDATE,
            AuditAction.STORE_CREDENTIALS,
        }

    def test_undecryptable_secret_is_reported_not_shown(self, admin_client, settings):
        StoreFactory(store_id="lost")
        settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        page = admin_client.get(reverse("admin:stores_store_change", args=["lost"]))
        assert "unreadable: the encryption keys cannot open them" in page.content.decode()

    def test_registration_admin_goes_through_the_service(self, admin_client):
        store, sku = StoreFactory(), SkuFactory()
        response = admin_client.post(
            reverse("admin:stores_storesku_add"),
            {
                "store": store.store_id,
                "sku": sku.sku_id,
                "rakuten__manage_number": "m1",
                "rakuten__variant_id": "V-1",
                "rakuten__merchant_sku_id": "",
                "safety_stock": "",
            },
        )
        assert response.status_code == 302
        assert StoreSku.objects.get(store=store, sku=sku).rakuten.variant_id == "V-1"
        assert PendingPush.objects.filter(store=store, sku=sku).exists()

    def test_stores_cannot_be_deleted(self, admin_client):
        StoreFactory(store_id="keep")
        response = admin_client.post(
            reverse("admin:stores_store_delete", args=["keep"]), {"post": "yes"}
        )
        assert response.status_code == 403
        assert Store.objects.filter(pk="keep").exists()
