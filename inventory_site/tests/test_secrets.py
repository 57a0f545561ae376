"""Secrets are refused at start when they are missing, malformed or the development ones
outside debug; credentials the keys cannot open never make a page fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from events.models import PendingPush
from stores.models import Store
from stores.tests.factories import StoreFactory
from sync.push import push_request, push_run

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = Fernet.generate_key().decode()


def start(**env: str) -> subprocess.CompletedProcess:
    """Load the production settings in a process of its own with this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    return subprocess.run(
        [sys.executable, "-c", "import inventory_site.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        (
            {"DJANGO_SECRET_KEY": "", "FIELD_ENCRYPTION_KEYS": GOOD_KEY},
            "DJANGO_SECRET_KEY is empty",
        ),
        ({"DJANGO_SECRET_KEY": "k" * 50, "FIELD_ENCRYPTION_KEYS": "garbage"}, "Fernet keys"),
        ({"DJANGO_SECRET_KEY": "k" * 50, "FIELD_ENCRYPTION_KEYS": " , "}, "is empty"),
        ({"FIELD_ENCRYPTION_KEYS": GOOD_KEY}, "development key is refused"),
        ({"DJANGO_SECRET_KEY": "k" * 50}, "development encryption key is refused"),
        # The switch that used to let the development keys run with debug off is gone.
        ({"INVENTORY_ALLOW_DEV_SECRETS": "1"}, "development key is refused"),
    ],
)
def test_bad_secrets_are_refused_at_start(env, refusal):
    result = start(**env)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_good_secrets_and_debug_with_the_development_keys_start():
    assert start(DJANGO_SECRET_KEY="k" * 50, FIELD_ENCRYPTION_KEYS=GOOD_KEY).returncode == 0
    assert start(DJANGO_DEBUG="1").returncode == 0


@pytest.mark.django_db
def test_unreadable_credentials_show_on_the_pages_and_pushes_back_off(
    admin_client, settings, engine_store
):
    store = engine_store
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # not the one used
    page = admin_client.get(reverse("sync:store", args=[store.store_id]))
    assert page.status_code == 200
    assert "unreadable" in page.content.decode()
    assert "credentials unreadable" in admin_client.get(reverse("sync:dashboard")).content.decode()
    push_request(store_id=store.store_id)
    run = push_run(store_id=store.store_id)
    assert run.status == "failed"
    assert "cannot be decrypted" in run.error
    row = PendingPush.objects.get(store=store)
    assert (row.status, row.attempts) == ("pending", 1)  # backs off, ends failed in time
    assert not Store.objects.get(pk=store.pk).credentials_readable


@pytest.fixture
def engine_store(db):
    from events.actors import Actor
    from skus.tests.factories import SkuFactory
    from sync.registrations import store_sku_register

    store = StoreFactory(api_config={"base_url": "http://127.0.0.1:9"})
    SkuFactory(sku_id="Mug-1", initial_stock=4)
    store_sku_register(
        store_id=store.store_id,
        sku_id="mug-1",
        manage_number="mug",
        variant_id="Mug-1",
        actor=Actor.cli("test"),
    )
    PendingPush.objects.all().delete()
    return store
