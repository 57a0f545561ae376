"""A stock write counts only on RMS's documented answer; the disputed Content-Type is
learnt per shop."""

import pytest
import requests

from events.models import PendingPush
from rakuten import client as client_module
from rakuten.endpoints import JSON_CONTENT_TYPE, JSON_CONTENT_TYPE_SPACED
from rakuten.errors import RmsMalformedResponse
from rakuten.types import InventoryUpdate
from stores.models import StoreSku
from sync.models import SyncRun
from sync.push import push_request, push_run

pytestmark = pytest.mark.django_db


def test_a_2xx_with_a_body_on_bulk_upsert_is_not_counted_as_applied(engine):
    push_request(store_id="store-b")
    engine.sandbox.fault_add("inventory.bulk_upsert", "malformed", 10)
    run = push_run(store_id="store-b")
    assert run.status == SyncRun.Status.FAILED
    assert "instead of 204 with no body" in run.error
    rows = PendingPush.objects.filter(store_id="store-b")
    assert {(row.status, row.attempts) for row in rows} == {("pending", 1)}
    assert not StoreSku.objects.filter(
        store_id="store-b", last_pushed_quantity__isnull=False
    ).exists()


def test_the_client_refuses_any_answer_but_204(make_client, sandbox):
    sandbox.fault_add("inventory.bulk_upsert", "malformed", 10)
    with pytest.raises(RmsMalformedResponse, match="instead of 204"):
        make_client(max_retries=0).inventory_bulk_upsert(
            [InventoryUpdate("tshirt-red", "Tshirt-RED-M", 3)]
        )


def test_a_shop_that_takes_only_the_spaced_content_type_is_learnt_once(
    make_client, sandbox_server, monkeypatch
):
    monkeypatch.setattr(client_module, "_content_types", {})
    response = requests.put(
        f"{sandbox_server.url}/_sandbox/content-types",
        json={"accept": [JSON_CONTENT_TYPE_SPACED]},
        timeout=5,
    )
    assert response.status_code == 200
    rms = make_client()
    rms.inventory_bulk_upsert([InventoryUpdate("tshirt-red", "Tshirt-RED-M", 7)])
    rms.inventory_bulk_upsert([InventoryUpdate("tshirt-red", "Tshirt-RED-M", 6)])
    sandbox = sandbox_server.sandbox
    assert sandbox.stock_of("shop-a", "tshirt-red", "Tshirt-RED-M") == 6
    calls = sandbox.calls_matching(endpoint="inventory.bulk_upsert")
    assert [call.status for call in calls] == [415, 204, 204]  # refused once, then learnt
    assert client_module._content_types[rms.shop_key] == JSON_CONTENT_TYPE_SPACED
    # A shop that takes neither form fails with RMS's error, without looping.
    sandbox.accepted_content_types = ("text/plain",)
    with pytest.raises(Exception, match="ES04-03"):
        make_client().inventory_bulk_upsert([InventoryUpdate("tshirt-red", "Tshirt-RED-M", 5)])
    assert JSON_CONTENT_TYPE != JSON_CONTENT_TYPE_SPACED


@pytest.mark.parametrize(
    "url",
    [
        "http://api.rms.rakuten.co.jp",  # not HTTPS
        "https://rms.attacker.example",
        "https://user@api.rms.rakuten.co.jp",
        "https://api.rms.rakuten.co.jp.attacker.example",
    ],
)
def test_credentials_are_never_sent_to_a_host_that_is_not_rms(url, monkeypatch):
    from rakuten.client import RmsClient
    from rakuten.errors import RmsNotConfigured
    from stores.tests.factories import StoreFactory

    def no_network(*args, **kwargs):
        raise AssertionError("a request was sent")

    monkeypatch.setattr(requests.Session, "request", no_network)
    store = StoreFactory(api_config={"base_url": url})
    with pytest.raises(RmsNotConfigured, match=r"must be https://api\.rms\.rakuten\.co\.jp"):
        RmsClient.for_store(store)
    from sync.services import store_auth_test

    ok, message = store_auth_test(store_id=store.store_id)
    assert not ok
    assert "INVENTORY_SANDBOX_HOSTS" in message


def test_the_admin_refuses_an_api_address_that_is_not_rms(admin_client):
    from django.urls import reverse

    from stores.models import Store

    response = admin_client.post(
        reverse("admin:stores_store_add"),
        {
            "store_id": "evil",
            "store_name": "Evil",
            "platform_type": "rakuten",
            "status": "active",
            "safety_stock": "0",
            "api_config": '{"base_url": "http://collector.example"}',
            "rakuten__service_secret": "SP-x",
            "rakuten__license_key": "SL-x",
        },
    )
    assert response.status_code == 200
    assert "must be https://api.rms.rakuten.co.jp" in response.content.decode()
    assert not Store.objects.filter(pk="evil").exists()
