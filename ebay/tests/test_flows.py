"""eBay beyond the contract: consent over HTTP, tokens, eBay's push rules, orders without a
SKU, and the catalogue reads as resumable runs."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from ebay.catalog import catalog_run
from ebay.client import EbayClient
from ebay.models import EbayBinding, EbayConnection, EbayListing, EbayRevision
from events.models import AuditLog, PendingPush
from stores.models import Store
from sync.models import OrderLine, SyncRun
from sync.orders import orders_poll
from sync.push import push_request, push_run
from sync.runs import RunLog
from sync.services import store_auth_test

pytestmark = pytest.mark.django_db

STORE = "eb-a"


def money_keys(value) -> list[str]:
    """Every key (at any depth) that names money."""
    if isinstance(value, dict):
        found = [k for k in value if any(w in k.lower() for w in ("pric", "amount", "cost"))]
        return found + [k for v in value.values() for k in money_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in money_keys(v)]
    return []


@pytest.fixture
def admin(client):
    user = User.objects.create_superuser("boss", password="pw")
    client.force_login(user)
    return user


def test_connecting_an_account_goes_through_ebays_consent_and_keeps_the_tokens_encrypted(
    ebay_world, client, admin
):
    EbayConnection.objects.filter(store_id=STORE).delete()
    page = client.get(reverse("sync:store", args=[STORE])).content.decode()
    assert "Not connected to an eBay account yet" in page
    response = client.post(reverse("ebay:connect", args=[STORE]))
    consent = response["Location"]
    assert consent.startswith(f"{ebay_world.url}/oauth2/authorize?client_id=app-eb-a")
    state = parse_qs(urlsplit(consent).query)["state"][0]
    # The seller agrees on eBay's page; eBay sends them to the RuName's accept URL.
    agreed = requests.post(
        consent, data={"decision": "agree", "seller": STORE}, allow_redirects=False, timeout=5
    )
    assert agreed.status_code == 302
    back = urlsplit(agreed.headers["Location"])
    assert back.path == reverse("ebay:callback")
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert query["state"] == state
    done = client.get(reverse("ebay:callback"), query)
    assert done["Location"] == reverse("sync:store", args=[STORE])
    connection = EbayConnection.objects.get(store_id=STORE)
    assert (connection.connected_by, connection.reconnect) == ("boss", False)
    assert connection.tokens()["refresh"]
    assert connection.tokens()["refresh"] not in connection.tokens_encrypted
    assert connection.refresh_expires_at > timezone.now() + dt.timedelta(days=500)
    entry = AuditLog.objects.filter(action="store.credentials").latest("created_at")
    assert entry.details == {"store_id": STORE, "ebay": "account connected"}
    assert connection.tokens()["refresh"] not in str(AuditLog.objects.values_list("details"))
    # The state is used up: the same answer again connects nothing.
    again = client.get(reverse("ebay:callback"), query, follow=True)
    assert "does not belong to a consent started here" in again.content.decode()
    page = client.get(reverse("sync:store", args=[STORE])).content.decode()
    assert "Connected to eBay on" in page
    assert connection.tokens()["refresh"] not in page


def test_a_declined_consent_or_a_forged_state_connects_nothing(ebay_world, client, admin):
    EbayConnection.objects.filter(store_id=STORE).delete()
    response = client.post(reverse("ebay:connect", args=[STORE]))
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    forged = client.get(reverse("ebay:callback"), {"state": "x" + state, "code": "c"}, follow=True)
    assert "does not belong to a consent started here" in forged.content.decode()
    client.post(reverse("ebay:connect", args=[STORE]))
    state = client.session["ebay_consent"]["state"]
    declined = client.get(
        reverse("ebay:callback"), {"state": state, "error": "access_denied"}, follow=True
    )
    assert "consent was declined" in declined.content.decode()
    assert not EbayConnection.objects.filter(store_id=STORE).exists()


def test_connecting_needs_the_right_to_change_stores(ebay_world, client):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    assert client.post(reverse("ebay:connect", args=[STORE])).status_code == 403
    assert client.get(reverse("ebay:connect", args=[STORE])).status_code in (403, 405)


def test_a_refused_refresh_token_asks_for_a_reconnect(ebay_world, client, admin):
    ebay_world.sandbox.tokens_revoke(seller=STORE)
    ok, message = store_auth_test(store_id=STORE)
    assert not ok
    assert "connect the eBay account again" in message
    connection = EbayConnection.objects.get(store_id=STORE)
    assert connection.reconnect
    page = client.get(reverse("sync:store", args=[STORE])).content.decode()
    assert "Reconnect eBay account" in page
    # A push meanwhile fails the run, keeps every row and says why.
    push_request(store_id=STORE)
    run = push_run(store_id=STORE)
    assert run.status == SyncRun.Status.FAILED
    assert "connect the eBay account again" in run.error
    assert PendingPush.objects.filter(store_id=STORE, status="pending").count() == 3


def test_the_access_token_is_kept_and_reused_by_the_next_client(ebay_world):
    store = Store.objects.get(pk=STORE)
    EbayConnection.objects.filter(store=store).update(access_expires_at=timezone.now())
    first = EbayClient.for_store(store)
    first.token()
    tokens = lambda: len(ebay_world.sandbox.calls_matching(shop_id="app-eb-a", endpoint="token"))  # noqa: E731
    assert tokens() == 1
    second = EbayClient.for_store(Store.objects.get(pk=STORE))
    assert second.token() == first.token()
    assert tokens() == 1
    assert EbayConnection.objects.get(store=store).access_expires_at > timezone.now()


def test_an_ebay_system_error_is_tried_again_and_a_refused_value_fails_alone(ebay_world):
    for sku_id in ebay_world.sku_ids:
        ebay_world.set_shown(STORE, sku_id, 0)
    ebay_world.sandbox.stock_fault_add(STORE, "Tshirt-RED-M", 1)
    push_request(store_id=STORE)
    run = push_run(store_id=STORE)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.counts["deferred"] == 1
    row = PendingPush.objects.get(store_id=STORE)
    assert (row.sku_id, row.status, row.attempts) == ("tshirt-red-m", "pending", 1)
    assert "25001" in row.last_error
    assert ebay_world.shown(STORE, "tshirt-red-l") == 12
    # Later, eBay takes it.
    PendingPush.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert push_run(store_id=STORE).counts["pushed"] == 1
    assert ebay_world.shown(STORE, "tshirt-red-m") == 25


def test_a_listing_out_of_revisions_keeps_its_change_pending_until_tomorrow(ebay_world, settings):
    settings.EBAY_REVISIONS_PER_DAY = 2
    offer = ebay_world.offers[(STORE, "Towel-NAVY")]
    EbayRevision.objects.create(
        store_id=STORE, offer_id=offer, day=timezone.now().astimezone(dt.UTC).date(), count=2
    )
    push_request(store_id=STORE)
    run = push_run(store_id=STORE)
    assert (run.status, run.counts["pushed"], run.counts["held"]) == ("succeeded", 2, 1)
    row = PendingPush.objects.get(store_id=STORE)
    assert (row.sku_id, row.status, row.attempts) == ("towel-navy", "pending", 0)
    assert "revisions of a listing a day" in row.last_error
    assert row.next_attempt_at.astimezone(dt.UTC).time() == dt.time(0, 0)
    assert row.next_attempt_at > timezone.now()
    # Each offer of what was sent counts one revision today.
    counted = dict(EbayRevision.objects.values_list("offer_id", "count"))
    assert counted[ebay_world.offers[(STORE, "Tshirt-RED-M")]] == 1


def test_an_order_line_without_a_sku_is_kept_unmatched(ebay_world):
    order = ebay_world.sandbox.order_place(
        STORE, [{"legacyItemId": "3333", "title": "old listing", "quantity": 1}]
    )
    run = orders_poll(store_id=STORE)
    line = OrderLine.objects.get(order__order_number=order.order_id)
    assert line.sku_id is None
    assert line.listing_label == "item 3333 "
    assert run.counts["unmatched_lines"] == 1


def test_an_order_placed_before_the_first_poll_is_left_alone(ebay_world):
    from sync.models import Order, PollState

    order = ebay_world.place_order(STORE, "tshirt-red-m", 2)
    PollState.objects.filter(store_id=STORE).update(origin=timezone.now())
    ebay_world.sandbox.order_ship(STORE, order)  # modified after the origin
    orders_poll(store_id=STORE)
    assert not Order.objects.filter(order_number=order).exists()


def test_the_inventory_read_stores_every_item_without_prices_and_resumes_after_a_stop(
    ebay_world, monkeypatch
):
    for n in range(7):
        ebay_world.sandbox.item_add(
            STORE,
            {
                "sku": f"Extra-{n}",
                "product": {
                    "title": f"extra {n}",
                    "aspects": {"MPN": [f"P{n}"], "Model": ["M1"]},
                    "imageUrls": ["https://i.ebayimg.com/1.jpg", "https://i.ebayimg.com/2.jpg"],
                },
                "quantity": n,
                "offers": [{"price": 12.5}],
            },
        )
    monkeypatch.setattr("ebay.catalog.STORE_CHUNK", 2)
    real = EbayClient.inventory_pages
    monkeypatch.setattr(EbayClient, "inventory_pages", lambda self, **kw: real(self, limit=4, **kw))
    calls = {"n": 0}

    def stop_on_third_check(self):
        calls["n"] += 1
        return calls["n"] == 3

    monkeypatch.setattr(RunLog, "cancelled", stop_on_third_check)
    first = catalog_run(store_id=STORE, part="inventory")
    assert first.status == SyncRun.Status.CANCELLED
    assert first.details["resume"]["next_url"]
    stored_first = first.counts["stored"]
    assert 0 < stored_first < 10
    monkeypatch.setattr(RunLog, "cancelled", lambda self: False)
    second = catalog_run(store_id=STORE, part="inventory")
    assert second.status == SyncRun.Status.SUCCEEDED
    assert "Going on where run" in second.log
    assert second.counts["stored"] == 10  # what the first stored, and the rest
    assert second.details["resume"] is None
    extra = EbayListing.objects.get(store_id=STORE, ebay_sku="Extra-3")
    assert (extra.title, extra.part_number, extra.model, extra.quantity) == (
        "extra 3",
        "P3",
        "M1",
        3,
    )
    assert extra.photo_count == 2
    assert not money_keys(extra.raw_item)
    assert EbayListing.objects.filter(store_id=STORE).count() == 10
    # A third run starts from the beginning: the second one finished.
    third = catalog_run(store_id=STORE, part="inventory")
    assert "Going on where run" not in third.log


def test_the_offers_read_retries_a_failed_sku_and_feeds_the_bindings(ebay_world):
    catalog_run(store_id=STORE, part="inventory")
    EbayBinding.objects.filter(store_id=STORE).update(offer_ids=[])
    ebay_world.sandbox.fault_add("offer.list", "500", 4, shop_id=STORE)  # one SKU, all retries
    run = catalog_run(store_id=STORE, part="offers")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "tried again at the end" in run.log
    assert run.counts["stored"] == 3
    listing = EbayListing.objects.get(store_id=STORE, ebay_sku="Tshirt-RED-M")
    assert listing.state == EbayListing.State.ACTIVE
    assert listing.listing_id
    assert [o["offer_id"] for o in listing.offers] == [ebay_world.offers[(STORE, "Tshirt-RED-M")]]
    assert not money_keys(listing.raw_offers)
    assert listing.raw_offers[0]["format"] == "FIXED_PRICE"  # a value, kept
    binding = EbayBinding.objects.get(store_id=STORE, ebay_sku="Tshirt-RED-M")
    assert binding.offer_ids == [ebay_world.offers[(STORE, "Tshirt-RED-M")]]


def test_the_store_page_starts_a_read_and_its_run_page_follows_it(
    ebay_world, client, admin, django_capture_on_commit_callbacks
):
    page = client.get(reverse("sync:store", args=[STORE])).content.decode()
    assert "Read eBay inventory" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ebay:catalog", args=[STORE, "inventory"]))
    run = SyncRun.objects.get(kind=SyncRun.Kind.CATALOG)
    assert response["Location"] == reverse("sync:run", args=[run.pk])
    assert run.status == SyncRun.Status.SUCCEEDED  # tasks run inline in the tests
    html = client.get(response["Location"]).content.decode()
    assert "succeeded (3 records fetched from the platform, 3 records saved)" in html
    assert client.post(reverse("ebay:catalog", args=[STORE, "prices"])).status_code == 404


def test_the_dashboard_says_which_ebay_store_must_be_reconnected(ebay_world, client, admin):
    EbayConnection.objects.filter(store_id=STORE).update(reconnect=True, last_error="revoked")
    html = client.get(reverse("sync:dashboard")).content.decode()
    assert f'href="/dashboard/stores/{STORE}/#account">Reconnect eBay account</a>' in html
    assert "eBay refused the connection (revoked)" in html
    # The other eBay stores are connected: nothing to do there.
    assert html.count("Reconnect eBay account") == 1


def test_the_dashboard_reads_every_ebay_account_at_once(ebay_world, client, admin):
    """The account state of every eBay store costs one query, however many stores."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.actors import Actor

    def dashboard() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("sync:dashboard")).content.decode()
        return len(captured), page

    few, _page = dashboard()
    for store_id in ("eb-d", "eb-e", "eb-f"):
        ebay_world.store_add(store_id, Actor.cli("test"))
    EbayConnection.objects.filter(store_id="eb-f").delete()
    many, page = dashboard()
    assert many == few
    # Each store's card still says its own: eb-f asks to be connected, the others not.
    cards = {card.split('"', 1)[0]: card for card in page.split('id="card-')[1:]}
    assert sorted(cards) == ["eb-a", "eb-b", "eb-c", "eb-d", "eb-e", "eb-f"]
    assert [sid for sid, card in cards.items() if "account needs connecting" in card] == ["eb-f"]
