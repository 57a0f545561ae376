"""The SKU page's stock chart: a step chart over time (the stock holds until the next
event, and until now after the last), a point per event with its tooltip, gridlines, a
width that follows the page, and a sensible picture for a single event."""

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from events.selectors import sku_events
from events.services import event_record
from inventory_site.permissions import groups_ensure
from skus.charts import stock_chart
from skus.tests.factories import SkuFactory

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


class Event:
    """An event as the chart reads it."""

    def __init__(self, at, balance, quantity, event_type="MANUAL_ADJUSTMENT", order_id=None):
        self.created_at = at
        self.balance_after = balance
        self.quantity = quantity
        self.event_type = event_type
        self.order_id = order_id
        self.store_id = "tokyo" if order_id else None
        self.oversold = balance < 0

    def get_event_type_display(self):
        return self.event_type.lower().replace("_", " ")


START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_the_stock_holds_until_the_next_event():
    events = [
        Event(START, 10, 10),
        Event(START + dt.timedelta(hours=1), 4, -6, "ORDER_RECEIVED", "111-1"),
        Event(START + dt.timedelta(hours=3), -2, -6, "ORDER_RECEIVED", "111-2"),
    ]
    chart = stock_chart(events, now=START + dt.timedelta(hours=4))
    points = [tuple(map(float, pair.split(","))) for pair in chart.points.split()]
    # Across at the old level, then down at the event's time: never a slope.
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        assert x1 == x2 or y1 == y2
    xs = [dot.x for dot in chart.dots]
    assert xs == [0.0, 150.0, 450.0]  # a quarter of the time, three quarters
    assert points[-1] == (600.0, chart.dots[-1].y)  # held until now
    assert chart.low < 0 < chart.high  # zero inside, the oversell below it
    assert [line.label for line in chart.value_grid] == list(range(chart.low, chart.high + 1, 5))
    assert len(chart.time_grid) == 4
    assert chart.time_format == "H:i"  # four hours: the day is not needed
    assert chart.dots[1].order_id == "111-1"
    assert not chart.single


def test_one_event_is_a_level_line_to_now():
    chart = stock_chart([Event(START, 7, 7)], now=START + dt.timedelta(days=2))
    assert chart.single
    assert chart.current == 7
    assert [line.label for line in chart.time_grid] == [START]
    assert chart.points == f"0.0,{chart.dots[0].y:.1f} 600.0,{chart.dots[0].y:.1f}"
    same_moment = stock_chart([Event(START, 7, 7)], now=START)
    assert same_moment.dots[0].x == 0.0


def test_no_event_no_chart():
    assert stock_chart([]) is None


def test_the_sku_page_draws_points_with_tooltips(client):
    member(client, "viewer")
    sku = SkuFactory(sku_id="Mug-9", initial_stock=5)
    event_record(
        sku_id=sku.sku_id,
        quantity=-2,
        event_type="ORDER_RECEIVED",
        source="api",
        operator="system",
        order_id="333-3",
    )
    assert sku_events(sku_id="mug-9").count() == 2
    page = client.get(reverse("skus:detail", args=["mug-9"])).content.decode()
    assert 'data-events="2"' in page
    assert page.count("<circle ") == 2
    assert "order received -2 → 3 · Order 333-3" in page
    assert 'style="width: 100%; height: auto;' in page  # follows the page's width
    assert 'class="grid"' in page
    assert "held until the next one" in page
    lone = SkuFactory(sku_id="Lone-1", initial_stock=4)
    page = client.get(reverse("skus:detail", args=[lone.sku_id])).content.decode()
    assert "Only one event so far: the stock has been 4 since" in page
