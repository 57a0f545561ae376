""" "Why does store X show N?": the explanation of what each store is told, on the SKU page
(in Chromium, English and Japanese) and in its selector."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.actors import Actor
from events.models import EventSource, EventType, PendingPush
from events.services import event_record
from inventory_site.permissions import groups_ensure
from inventory_site.tests.browser import CHROMIUM
from skus.selectors import sku_explain
from skus.services import set_define
from skus.tests.factories import SkuFactory
from stores.services import allocation_rule_save
from stores.tests.factories import StoreFactory, StoreSkuFactory

SCREENSHOTS = settings.BASE_DIR / "test-output" / "screenshots"
PASSWORD = "a-long-browser-password"
STAFF = Actor.cli("kenji")


def world():
    """A gift set of 2 cups and 1 saucer (cups 21, saucers 9: 9 sets) sold in the Tokyo
    shop with an 80 % share and a sale-day cap; a cup order just came in from Osaka."""
    SkuFactory(sku_id="Cup", sku_name="Cup", initial_stock=21)
    SkuFactory(sku_id="Saucer", sku_name="Saucer", initial_stock=9)
    gift = SkuFactory(sku_id="Gift-Set", sku_name="Cup and saucer")
    set_define(sku_id="gift-set", components=[("cup", 2), ("saucer", 1)], actor=STAFF)
    tokyo = StoreFactory(store_id="tokyo", store_name="Tokyo shop")
    osaka = StoreFactory(store_id="osaka", store_name="Osaka shop")
    StoreSkuFactory(store=tokyo, sku=gift)
    StoreSkuFactory(store=osaka, sku=gift)
    allocation_rule_save(actor=STAFF, store_id="tokyo", kind="share", value=80)
    now = timezone.now()
    allocation_rule_save(
        actor=STAFF,
        store_id="tokyo",
        sku_id="gift-set",
        kind="cap",
        value=6,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
        note="sale day",
    )
    event_record(
        sku_id="cup",
        quantity=-3,
        event_type=EventType.ORDER_RECEIVED,
        source=EventSource.API,
        operator="rakuten-poll",
        store_id="osaka",
        order_id="100-osaka-7",
    )
    return gift


@pytest.mark.django_db
def test_the_explanation_walks_from_the_pool_to_what_each_store_is_told():
    gift = world()
    with CaptureQueriesContext(connection) as queries:
        explained = sku_explain(gift)
    assert len(queries.captured_queries) <= 8
    # Cups 18 // 2 = 9, saucers 9 // 1 = 9.
    assert explained.available == 9
    assert [(c.sku_id, c.quantity, c.available, c.allows) for c in explained.components] == [
        ("cup", 2, 18, 9),
        ("saucer", 1, 9, 9),
    ]
    tokyo, osaka = sorted(explained.stores, key=lambda v: v.registration.store_id, reverse=True)
    assert [(s.kind, s.before, s.after, s.source) for s in tokyo.allocation.steps] == [
        ("share", 9, 7, "store"),
        ("cap", 7, 6, "sku_window"),
    ]
    assert tokyo.should_show == 6
    assert osaka.should_show == 9
    assert osaka.allocation.steps == ()
    assert tokyo.pending is not None
    assert not tokyo.in_step
    event = explained.events[0]
    assert (event.sku_id, event.order_id, event.quantity) == ("cup", "100-osaka-7", -3)
    assert explained.used_in == []
    assert sku_explain(gift.components.get(component_id="cup").component).used_in == [
        ("gift-set", 2)
    ]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            {
                "title": "Why each store shows what it shows",
                "available": "Available: what the components allow",
                "share": "share 80 %",
                "cap": "at most 6",
                "should": "should show 6",
                "waiting": "A push is waiting",
            },
        ),
        (
            "ja",
            {
                "title": "各店舗の表示在庫の内訳",
                "available": "引当可能数：構成品から組める数",
                "share": "割当 80 %",
                "cap": "上限 6",
                "should": "表示すべき数 6",
                "waiting": "送信待ち",
            },
        ),
    ],
)
def test_the_sku_page_explains_a_set_with_a_share_rule_and_a_pending_push(
    browser, live_server, language, texts
):
    groups_ensure()
    world()
    user = User.objects.create_user("olivia", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    assert PendingPush.objects.filter(store_id="tokyo", sku_id="gift-set").exists()
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 900}
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/skus/gift-set/")
    tab.fill("#id_username", "olivia")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/skus/gift-set/$"))
    assert texts["title"] in tab.inner_text("#why")
    components = tab.inner_text("#set-components")
    assert re.search(r"Cup\s+2\s+18\s+9", components)
    tokyo = tab.inner_text("#explain-tokyo")
    for key in ("available", "share", "cap", "should", "waiting"):
        assert texts[key] in tokyo, key
    assert re.search(r"-2\s+7", tokyo)
    assert re.search(r"-1\s+6", tokyo)
    # The order behind the last change is one click away.
    link = tab.locator("#explain-events a", has_text="100-osaka-7")
    assert "/admin/sync/order/?q=100-osaka-7" in link.get_attribute("href")
    assert tab.locator("#adjust-form").count() == 0  # a set has no stock of its own
    tab.screenshot(path=str(SCREENSHOTS / f"sku_explain_{language}.png"), full_page=True)
    context.close()
