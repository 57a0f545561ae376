"""Low-stock alert: SKUs at or below their threshold (sets by their components), listed
and mailed each morning."""

import pytest
from django.contrib.auth.models import Group, User

from events.actors import Actor
from skus.selectors import low_stock
from skus.services import set_define, sku_update
from skus.tasks import low_stock_mail, low_stock_recipients
from skus.tests.factories import SkuFactory
from sync.schedules import SCHEDULES

pytestmark = pytest.mark.django_db
STAFF = Actor.cli("kenji")


@pytest.fixture
def stock():
    SkuFactory(sku_id="Mug", sku_name="Mug", initial_stock=3, low_stock_threshold=3)
    SkuFactory(sku_id="Bowl", sku_name="Bowl", initial_stock=4, low_stock_threshold=3)
    SkuFactory(sku_id="Plate", sku_name="Plate", initial_stock=0)  # no threshold: no alert
    SkuFactory(sku_id="Cup", sku_name="Cup", initial_stock=20, low_stock_threshold=1)
    SkuFactory(sku_id="Set", sku_name="Mug and cup", low_stock_threshold=5)
    set_define(sku_id="set", components=[("mug", 1), ("cup", 2)], actor=STAFF)


def test_low_stock_lists_skus_at_or_below_their_threshold_scarcest_first(stock):
    assert [(s.sku_id, s.available) for s in low_stock()] == [("mug", 3), ("set", 3)]
    sku_update(sku_id="mug", status="inactive", actor=STAFF)
    assert [s.sku_id for s in low_stock()] == ["set"]


def test_the_daily_mail_lists_them_for_staff_who_see_skus(stock, mailoutbox, settings):
    settings.LOW_STOCK_MAIL_LANGUAGE = "en"
    User.objects.create_superuser("boss", "boss@example.com", "pw")
    clerk = User.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    clerk.groups.add(Group.objects.get(name="operator"))
    User.objects.create_user("nobody", "nobody@example.com", "pw", is_staff=True)
    User.objects.create_user("customer", "customer@example.com", "pw")
    assert low_stock_recipients() == ["boss@example.com", "clerk@example.com"]
    assert low_stock_mail() == "2 low, mailed to 2"
    (mail,) = mailoutbox
    assert mail.subject == "Inventory Sync: 2 SKUs are low on stock"
    assert "Mug\n    available 3 (threshold 3)" in mail.body
    assert "Set  Mug and cup\n    available 3 (threshold 5)" in mail.body
    assert "Bowl" not in mail.body


def test_the_mail_goes_to_the_configured_addresses_in_japanese(stock, mailoutbox, settings):
    settings.LOW_STOCK_MAIL_TO = ["stock@example.com"]
    settings.LOW_STOCK_MAIL_LANGUAGE = "ja"
    low_stock_mail()
    assert mailoutbox[0].to == ["stock@example.com"]
    assert "在庫" in mailoutbox[0].subject


def test_no_mail_when_nothing_is_low_or_nobody_can_get_it(mailoutbox, settings):
    SkuFactory(sku_id="Mug", initial_stock=9, low_stock_threshold=3)
    assert low_stock_mail() == "no SKU is low"
    SkuFactory(sku_id="Tea", initial_stock=1, low_stock_threshold=3)
    assert "nobody to mail" in low_stock_mail()
    assert mailoutbox == []


def test_the_mail_is_scheduled_every_morning():
    spec = next(s for s in SCHEDULES if s.func == "skus.tasks.low_stock_mail")
    assert (spec.schedule_type, spec.at.hour) == ("D", 8)


def test_the_sku_list_low_filter_uses_thresholds_and_sets(stock, client):
    from django.urls import reverse

    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    page = client.get(reverse("skus:list"), {"low": "1"}).content.decode()
    # Mug 3 ≤ 3 and the set 3 ≤ 5 are low; Bowl 4 > 3 and Cup 20 > 1 are not; Plate 0 has
    # no threshold: at or below the default of 5.
    for shown in ("Mug", "Set", "Plate"):
        assert f">{shown}</a>" in page
    for hidden in ("Bowl", "Cup"):
        assert f">{hidden}</a>" not in page
    # The set's stock is what its components allow (3), marked low.
    row = page[page.index(">Set</a>") :].split("</tr>")[0]
    assert '<td>3 <span class="low-stock"' in row
