"""Every list answers in a number of queries that does not grow with its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from events.actors import Actor
from events.models import EventSource, EventType, PendingPush
from events.services import event_record
from skus.services import sku_create
from stores.services import store_create
from sync.registrations import store_sku_register

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db

ROWS = 12


@pytest.fixture
def many(world):
    actor = Actor.cli("test")
    for n in range(ROWS):
        sku_create(sku_id=f"Many-{n:02d}", sku_name=f"many {n}", initial_stock=1, actor=actor)
        store_create(
            store_id=f"store-{n:02d}",
            store_name=f"Store {n}",
            credentials={"service_secret": f"SP{n}_secret", "license_key": f"SL{n}_key"},
            actor=actor,
        )
        store_sku_register(
            store_id="tokyo",
            sku_id=f"Many-{n:02d}",
            manage_number=f"item{n}",
            variant_id=f"Many-{n:02d}",
            actor=actor,
        )
        store_sku_register(
            store_id=f"store-{n:02d}",
            sku_id="Mug-01",
            manage_number="mug",
            variant_id="Mug-01",
            actor=actor,
        )
    for n in range(ROWS):
        # Orders past zero: oversold events (an adjustment would be refused).
        event_record(
            sku_id="mug-01",
            quantity=-1,
            event_type=EventType.ORDER_RECEIVED,
            source=EventSource.API,
            operator="system",
            store_id="tokyo",
            order_id=f"order-{n}",
        )
    # After the orders (which make pushes due again): failed pushes.
    for n in range(ROWS):
        PendingPush.objects.update_or_create(
            store_id=f"store-{n:02d}",
            sku_id="mug-01",
            defaults={"status": "failed", "attempts": 8, "last_error": "x"},
        )
    boss = make_user(None, "boss")
    boss.is_superuser = True
    boss.save()
    for n in range(ROWS):
        ApiToken.objects.create(user=boss, name=f"t{n}")
    return client_for(boss)


@pytest.mark.parametrize(
    "url",
    [
        "/api/stores",
        "/api/stores/tokyo/skus",
        "/api/skus",
        "/api/sync/failed",
        "/api/tokens",
        "/api/audit/logs",
        "/api/audit/oversell",
        "/api/events/mug-01",
    ],
)
def test_a_list_takes_as_many_queries_for_two_rows_as_for_twelve(many, url):
    many.get("/api/skus")  # the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as two:
        first = many.get(url, {"page_size": 2})
    with CaptureQueriesContext(connection) as twelve:
        second = many.get(url, {"page_size": ROWS})
    assert first.status_code == second.status_code == 200
    assert len(second.json()["results"]) > len(first.json()["results"])
    assert len(twelve) == len(two), [q["sql"] for q in twelve.captured_queries]


def test_a_skus_registrations_take_as_many_queries_for_one_store_as_for_twelve(many):
    many.get("/api/skus")
    with CaptureQueriesContext(connection) as one:
        assert len(many.get("/api/skus/tshirt-red-m/registrations").json()) == 1
    with CaptureQueriesContext(connection) as twelve:
        assert len(many.get("/api/skus/mug-01/registrations").json()) == ROWS
    assert len(twelve) == len(one)
