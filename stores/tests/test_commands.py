import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from events.models import InventoryEvent, PendingPush
from skus.models import Sku
from stores.models import Store, StoreSku

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_load_demo_data_is_idempotent_and_prints_a_working_password(capsys):
    call_command("load_demo_data")
    out = capsys.readouterr().out
    password = out.split("password:")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff
    assert user.check_password(password)
    counts = (Store.objects.count(), Sku.objects.count(), StoreSku.objects.count())
    # three Rakuten stores, one futureshop store, one eBay store (five of its six SKUs); the
    # Rakuten shops' gift set is a sixth SKU registered in those three
    assert counts == (5, 6, 28)
    rakuten = Store.objects.filter(platform_type="rakuten")
    assert all(s.api_config["base_url"] == "http://127.0.0.1:8765" for s in rakuten)
    futureshop = Store.objects.get(platform_type="futureshop")
    assert futureshop.api_config["base_url"] == "http://127.0.0.1:8766"
    assert futureshop.registrations.get(sku_id="tshirt-red-l").futureshop.horizontal_no == "02"
    assert all(s.has_credentials for s in Store.objects.all())
    ebay = Store.objects.get(platform_type="ebay")
    assert ebay.api_config["base_url"] == "http://127.0.0.1:8767"
    assert ebay.registrations.get(sku_id="tshirt-red-m").ebay.offer_ids == ["7001000005"]
    events = InventoryEvent.objects.count()

    call_command("load_demo_data", "--password", "chosen-pass-1")
    assert (Store.objects.count(), Sku.objects.count(), StoreSku.objects.count()) == counts
    assert InventoryEvent.objects.count() == events
    assert get_user_model().objects.get(username="admin").check_password("chosen-pass-1")
    assert PendingPush.objects.count() == 28  # each registration pushed once, not twice


def test_bench_ledger_runs_and_checks_itself():
    """The benchmark in its own process (it makes and drops a scratch database)."""
    env = {**os.environ, "DJANGO_DEBUG": "0"}  # the test run's own keys (test_settings)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_ledger", "--events", "60", "--writers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "60 events, 1 SKU(s), 2 writer(s)" in result.stdout
    assert "events/s" in result.stdout
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert "ratio service/raw:" in result.stdout
