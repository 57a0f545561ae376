"""The demo's eBay store is connected to the sandbox's demo seller by a command."""

import io

import pytest
from django.core.management import CommandError, call_command

from ebay.client import EbayClient
from ebay.models import EbayConnection
from ebay.sandbox import demo as eb_demo
from ebay.sandbox.server import SandboxServer
from ebay.sandbox.state import Sandbox
from skus.models import Sku
from stores.models import Store

pytestmark = pytest.mark.django_db


def test_the_demo_store_is_connected_and_can_call_ebay():
    sandbox = Sandbox()
    eb_demo.demo_load(sandbox)
    server = SandboxServer(sandbox).start()
    try:
        with pytest.raises(CommandError, match="run load_demo_data first"):
            call_command("ebay_demo_connect", url=server.url, stdout=io.StringIO())
        call_command("load_demo_data", password="pw-for-the-test", stdout=io.StringIO())
        store = Store.objects.get(pk="demo-ebay")
        store.api_config = {**store.api_config, "base_url": server.url}
        store.save()
        out = io.StringIO()
        call_command("ebay_demo_connect", url=server.url, stdout=out)
        assert "connected" in out.getvalue()
        connection = EbayConnection.objects.get(store=store)
        assert connection.tokens()["refresh"]
        items = EbayClient.for_store(store).inventory_items(["Mug-WHITE"])
        assert items["Mug-WHITE"].quantity == 40
        # Every demo item whose SKU the demo has (the seller also sells one it does not).
        sold = {item["sku"].lower() for item in eb_demo.DEMO_ITEMS}
        have = set(Sku.objects.filter(pk__in=sold).values_list("pk", flat=True))
        assert set(store.registrations.values_list("sku_id", flat=True)) == have
        assert len(have) == len(sold) - 1
    finally:
        server.stop()


def test_a_sandbox_that_does_not_answer_is_said_plainly():
    call_command("load_demo_data", password="pw-for-the-test", stdout=io.StringIO())
    with pytest.raises(CommandError, match="does not answer"):
        call_command("ebay_demo_connect", url="http://127.0.0.1:9", wait=0.2, stdout=io.StringIO())
