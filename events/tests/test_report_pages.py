"""The ledger's reports read well: an oversell links to its SKU and its order and shows
as resolved once the order is cancelled; the audit log's details are key: value lines,
times in the site's zone."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from events.actors import Actor
from events.selectors import oversold_events
from events.services import audit_record, event_record
from events.views import audit_detail_lines
from inventory_site.permissions import groups_ensure
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def order_event(sku_id, store_id, order_id, quantity, event_type="ORDER_RECEIVED"):
    return event_record(
        sku_id=sku_id,
        quantity=quantity,
        event_type=event_type,
        source="api",
        operator="system",
        store_id=store_id,
        order_id=order_id,
    )


@pytest.fixture
def oversells():
    SkuFactory(sku_id="Mug-1", initial_stock=1)
    SkuFactory(sku_id="Cup-2", initial_stock=0)
    StoreFactory(store_id="tokyo")
    StoreFactory(store_id="osaka")
    cancelled = order_event("mug-1", "tokyo", "111-1", -3)
    order_event("mug-1", "tokyo", "111-1", 3, event_type="ORDER_CANCELLED")
    still_open = order_event("cup-2", "osaka", "222-2", -1)
    return cancelled, still_open


def test_an_oversell_whose_order_was_cancelled_is_resolved(oversells):
    cancelled, still_open = oversells
    rows = {event.pk: event.resolved for event in oversold_events()}
    assert rows == {cancelled.pk: True, still_open.pk: False}
    assert [e.pk for e in oversold_events(state="open")] == [still_open.pk]
    assert [e.pk for e in oversold_events(state="resolved")] == [cancelled.pk]
    assert [e.pk for e in oversold_events(store_id="tokyo")] == [cancelled.pk]


def test_the_oversell_report_links_each_row_and_filters_by_store(client, oversells):
    member(client, "viewer")
    page = client.get(reverse("reports:oversell")).content.decode()
    assert '<a href="/skus/mug-1/" class="sku-link">Mug-1</a>' in page
    order_list = reverse("admin:sync_order_changelist")
    assert f'href="{order_list}?q=111-1&amp;store__store_id__exact=tokyo"' in page
    assert '<tr class="resolved">' in page
    assert "resolved: order cancelled" in page
    assert '<tr class="open">' in page
    osaka = client.get(reverse("reports:oversell"), {"store": "osaka"}).content.decode()
    assert "222-2" in osaka
    assert "111-1" not in osaka
    open_only = client.get(reverse("reports:oversell"), {"state": "open"}).content.decode()
    assert "111-1" not in open_only


def test_audit_details_read_as_lines():
    when = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)
    lines = audit_detail_lines(
        {
            "store_id": "tokyo",
            "changes": {"sku_name": ["Old", "New"], "allow_oversell": [False, True]},
            "skus": [f"s{n}" for n in range(25)],
            "at": when.isoformat(),
            "sweep": None,
        }
    )
    assert lines[0] == ("Store", "tokyo")
    assert ("Changes · sku_name", "Old → New") in lines
    assert ("Changes · allow_oversell", "no → yes") in lines
    skus = dict(lines)["SKUs"]
    assert skus.startswith("s0, s1, s2")
    assert skus.endswith("… (25 in all)")
    assert dict(lines)["at"] == "2026-03-01 09:30:00"  # the site's zone (JST)
    assert dict(lines)["sweep"] == "–"


def test_the_audit_log_shows_lines_wrapped_in_one_zone(client, actor):
    audit_record(
        actor=actor,
        action="store.update",
        details={"store_id": "tokyo", "changes": {"store_name": ["A", "<b>B</b>"]}},
    )
    member(client, "viewer")
    page = client.get(reverse("reports:audit")).content.decode()
    assert '<span class="key">Store:</span> tokyo</li>' in page
    assert '<span class="key">Changes · store_name:</span> A → &lt;b&gt;B&lt;/b&gt;</li>' in page
    assert "Time (Asia/Tokyo)" in page
    local = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:")
    assert f'<td class="time">{local}' in page
    assert "overflow-wrap: anywhere" in page
    # A system actor's entry, with no details, still has its line.
    audit_record(actor=Actor.system("nightly"), action="snapshot.rebuild", details={})
    assert "<li>–</li>" in client.get(reverse("reports:audit")).content.decode()
