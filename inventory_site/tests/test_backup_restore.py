"""The backup and restore procedure of README "Production", on PostgreSQL: pg_dump -Fc of a
database with stores, SKUs and events, the database dropped, created and restored with
pg_restore, `verify_ledger` passing, and the first push of every store reading its stock
back first: a store already showing our quantity is not written to."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from rakuten.tests.conftest import CATALOG, FAST

from .processes import database_create, database_drop, manage, scratch_database

pytestmark = pytest.mark.postgres

SHOPS = {"store-a": ("SP-a", "SL-a"), "store-b": ("SP-b", "SL-b")}
VARIANTS = (("tshirt-red", "Tshirt-RED-M"), ("tshirt-red", "Tshirt-RED-L"), ("towel", "Towel-NAVY"))

SEED = """
from events.actors import Actor
from events.services import stock_adjust
from skus.services import sku_create
from stores.services import store_create
from sync.registrations import store_sku_register

actor = Actor.cli("backup test")
for store_id, (secret, key) in {shops!r}.items():
    store_create(
        store_id=store_id,
        store_name=store_id,
        api_config={{"base_url": {url!r}}},
        credentials={{"service_secret": secret, "license_key": key}},
        actor=actor,
    )
for sku_id, stock in (("Tshirt-RED-M", 25), ("Tshirt-RED-L", 12), ("Towel-NAVY", 3)):
    sku_create(sku_id=sku_id, sku_name=sku_id, initial_stock=stock, actor=actor)
stock_adjust(sku_id="tshirt-red-l", quantity=-2, reason="damaged in the warehouse", actor=actor)
for store_id in {shops!r}:
    for manage_number, variant_id in {variants!r}:
        store_sku_register(
            store_id=store_id,
            sku_id=variant_id,
            manage_number=manage_number,
            variant_id=variant_id,
            actor=actor,
        )
"""


def tool(name: str) -> str:
    found = shutil.which(name) or f"/usr/lib/postgresql/15/bin/{name}"
    if not Path(found).exists():
        pytest.skip(f"needs {name}")
    return found


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def shops():
    sandbox = Sandbox(rate_limits=FAST, hang_seconds=1.0, confirm_delay=0)
    for store_id, (secret, key) in SHOPS.items():
        sandbox.shop_add(shop_id=store_id, service_secret=secret, license_key=key, items=CATALOG)
    server = SandboxServer(sandbox).start()
    yield sandbox, server.url
    server.stop()


def test_dump_drop_restore_verify_and_the_first_push_reads_back(shops, tmp_path):
    sandbox, sandbox_url = shops
    dump = tmp_path / "inventory.dump"
    with scratch_database("backup") as (database, url):
        # The test settings (fast rate limits for the sandbox) on the scratch database.
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "inventory_site.test_settings",
            "DATABASE_URL": url,
        }
        manage(env, "migrate", "--noinput")
        manage(env, "shell", "-c", SEED.format(shops=SHOPS, url=sandbox_url, variants=VARIANTS))
        pushed = manage(env, "push_inventory", "--all")
        assert pushed.count("stock push succeeded") == 2, pushed
        assert sandbox.stock_of("store-a", "tshirt-red", "Tshirt-RED-L") == 10  # 12 - 2

        # The backup, then the database lost and restored from it (README "Production").
        run(tool("pg_dump"), "--format=custom", f"--file={dump}", url)
        database_drop(database)
        database_create(database)
        run(tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={url}", str(dump))

        verified = manage(env, "verify_ledger")
        assert "0 drift; 0 outbox row(s), 0 inconsistent" in verified
        assert "The ledger and the outbox are consistent." in verified

        # Meanwhile store-b's staff changed one SKU in the store itself.
        sandbox.stock_set("store-b", "tshirt-red", "Tshirt-RED-M", 7)
        prepared = manage(env, "verify_ledger", "--after-restore", "--hold-minutes", "0")
        assert "after restore: store-a: 3 SKU(s) read back first" in prepared
        assert "after restore: store-b: 3 SKU(s) read back first" in prepared
        writes = len(sandbox.calls_matching(endpoint="inventory.bulk_upsert"))
        reads = len(sandbox.calls_matching(endpoint="inventory.bulk_get"))

        first_a = manage(env, "push_inventory", "--store", "store-a")
        assert "store-a: stock push succeeded: verified 3" in first_a
        assert "pushed" not in first_a
        first_b = manage(env, "push_inventory", "--store", "store-b")
        assert "late_writes_repaired 1, pushed 1, verified 2" in first_b

        assert len(sandbox.calls_matching(endpoint="inventory.bulk_get")) == reads + 2
        new_writes = sandbox.calls_matching(endpoint="inventory.bulk_upsert")[writes:]
        assert [call.shop_id for call in new_writes] == ["store-b"]  # store-a: none
        sent = [variant["variantId"] for variant in new_writes[0].body["inventories"]]
        assert sent == ["Tshirt-RED-M"]
        assert sandbox.stock_of("store-b", "tshirt-red", "Tshirt-RED-M") == 25
        assert "0 outbox row(s), 0 inconsistent" in manage(env, "verify_ledger")
